"""A pysaml2 service provider, configured from idhub's IdP metadata, accepts idhub's
IdP-initiated Responses (signatures checked by pysaml2 through the xmlsec1 binary)."""

import os
import shutil
import tempfile

import requests
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig

from test_python3_saml import ACS, AUDIENCE, PW, api, posted_form, sign_in


def sp_client(server, app_id, workdir):
    md = requests.get(f"{server['base']}/api/v1/apps/{app_id}/sso/saml/metadata", headers={"Authorization": "SSWS " + server["token"]}, timeout=10)
    assert md.status_code == 200, md.text
    path = os.path.join(workdir, "idp.xml")
    with open(path, "w") as f:
        f.write(md.text)
    conf = SPConfig()
    conf.load({
        "entityid": AUDIENCE,
        "xmlsec_binary": shutil.which("xmlsec1"),
        "metadata": {"local": [path]},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
            "allow_unsolicited": True,
            "want_assertions_signed": True,
            "want_response_signed": True,
            "authn_requests_signed": False,
            "allow_unknown_attributes": True,
        }},
    })
    return Saml2Client(config=conf)


def test_pysaml2_accepts_idp_initiated_sign_on(server, unique):
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"pysaml2 SP {unique}",
        "settings": {"signOn": {
            "ssoAcsUrl": ACS, "audience": AUDIENCE,
            "subjectNameIdTemplate": "${user.email}", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "attributeStatements": [{"name": "firstName", "values": ["user.firstName"]}],
        }},
    })
    login = f"py2-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Pia", "lastName": "Saml"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    html = sign_in(server, login).get(f"{server['base']}/app/saml_2_0/{app['id']}/sso/saml", timeout=10).text
    action, fields = posted_form(html)
    assert action == ACS
    workdir = tempfile.mkdtemp(prefix="pysaml2-")
    try:
        client = sp_client(server, app["id"], workdir)
        resp = client.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
        assert resp is not None
        assert resp.name_id.text == login
        attributes = {a.name: [v.text for v in a.attribute_value] for st in resp.assertion.attribute_statement for a in st.attribute}
        assert attributes == {"firstName": ["Pia"]}, attributes
        # The same document with a changed attribute no longer verifies.
        import base64
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        forged = base64.b64encode(xml.replace(">Pia<", ">Eve<").encode()).decode()
        try:
            client.parse_authn_request_response(forged, BINDING_HTTP_POST)
            raise AssertionError("a tampered Response was accepted")
        except AssertionError:
            raise
        except Exception:
            pass
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_pysaml2_sp_initiated_with_outstanding_request(server, unique):
    from saml2 import BINDING_HTTP_REDIRECT
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"pysaml2 SP-init {unique}",
        "settings": {"signOn": {"ssoAcsUrl": ACS, "audience": AUDIENCE, "subjectNameIdTemplate": "${user.email}", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}},
    })
    login = f"py2sp-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Sp", "lastName": "Init"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    workdir = tempfile.mkdtemp(prefix="pysaml2-")
    try:
        client = sp_client(server, app["id"], workdir)
        req_id, info = client.prepare_for_authenticate(entityid=f"{server['base']}/app/{app['id']}", relay_state="/after", binding=BINDING_HTTP_REDIRECT)
        location = dict(info["headers"])["Location"]
        assert location.startswith(f"{server['base']}/app/saml_2_0/{app['id']}/sso/saml?SAMLRequest=")
        html = sign_in(server, login).get(location, timeout=10).text
        action, fields = posted_form(html)
        assert action == ACS and fields["RelayState"] == "/after"
        resp = client.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/after"})
        assert resp is not None and resp.name_id.text == login
        assert resp.in_response_to == req_id
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
