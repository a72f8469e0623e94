"""A python3-saml service provider, configured from idhub's IdP metadata, accepts the
Responses of idhub's IdP-initiated sign-on (strict mode), with the right NameID and
attributes, and refuses one signed by a rotated-away key; also after a non-browser sign-in through
the authn API with a TOTP second factor."""

import base64
import hashlib
import hmac
import re
import struct
import time
import urllib.parse

import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth

ACS = "https://sp.example/saml/acs"
AUDIENCE = "https://sp.example/metadata"
PW = "Str0ng-Passw0rd"


def api(server, method, path, body=None):
    r = requests.request(method, server["base"] + path, json=body, headers={"Authorization": "SSWS " + server["token"]}, timeout=10)
    assert r.status_code < 300, (path, r.status_code, r.text)
    return r.json() if r.text else None


def sign_in(server, login):
    """A browser session via the authn API and sessionCookieRedirect."""
    s = requests.Session()
    token = s.post(server["base"] + "/api/v1/authn", json={"username": login, "password": PW}, timeout=10).json()["sessionToken"]
    r = s.get(server["base"] + "/login/sessionCookieRedirect", params={"token": token, "redirectUrl": server["base"] + "/app/UserHome"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return s


def posted_form(html):
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', html))
    action = re.search(r'action="([^"]+)"', html).group(1)
    return action, fields


def sp_settings(server, app_id):
    keys = api(server, "GET", f"/api/v1/apps/{app_id}/credentials/keys")
    active = next(k for k in keys if k["status"] == "ACTIVE")
    return {
        "strict": True,
        "debug": False,
        "sp": {"entityId": AUDIENCE, "assertionConsumerService": {"url": ACS, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"}, "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
        "idp": {"entityId": f"{server['base']}/app/{app_id}", "singleSignOnService": {"url": f"{server['base']}/app/saml_2_0/{app_id}/sso/saml", "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"}, "x509cert": active["x5c"][0]},
        "security": {"wantAssertionsSigned": True, "wantMessagesSigned": True, "rejectDeprecatedAlgorithm": True},
    }


def acs_request(saml_response):
    u = urllib.parse.urlparse(ACS)
    return {"https": "on", "http_host": u.netloc, "script_name": u.path, "get_data": {}, "post_data": {"SAMLResponse": saml_response}}


def test_python3_saml_accepts_idp_initiated_sign_on(server, unique):
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"Dropbox stand-in {unique}",
        "settings": {"signOn": {
            "ssoAcsUrl": ACS, "audience": AUDIENCE,
            "subjectNameIdTemplate": "${user.email}", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "attributeStatements": [{"name": "firstName", "values": ["user.firstName"]}, {"name": "login", "values": ["user.login"]}],
        }},
    })
    login = f"sarah-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Sarah", "lastName": "Lee"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    browser = sign_in(server, login)
    html = browser.get(f"{server['base']}/app/saml_2_0/{app['id']}/sso/saml", params={"RelayState": "/after"}, timeout=10).text
    action, fields = posted_form(html)
    assert action == ACS
    assert fields["RelayState"] == "/after"
    auth = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), sp_settings(server, app["id"]))
    auth.process_response()
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()
    assert auth.get_nameid() == login
    attrs = auth.get_attributes()
    assert attrs["firstName"] == ["Sarah"] and attrs["login"] == [login]

    # An SP that still trusts the old certificate refuses Responses after a rotation.
    old_settings = sp_settings(server, app["id"])
    api(server, "POST", f"/api/v1/apps/{app['id']}/credentials/keys/generate")
    html = browser.get(f"{server['base']}/app/saml_2_0/{app['id']}/sso/saml", timeout=10).text
    _, fields = posted_form(html)
    stale = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), old_settings)
    stale.process_response()
    assert not stale.is_authenticated()
    assert stale.get_errors() != []
    fresh = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), sp_settings(server, app["id"]))
    fresh.process_response()
    assert fresh.is_authenticated(), fresh.get_last_error_reason()


def test_python3_saml_sp_initiated_with_in_response_to(server, unique):
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"SP-initiated {unique}",
        "settings": {"signOn": {"ssoAcsUrl": ACS, "audience": AUDIENCE, "subjectNameIdTemplate": "${user.email}", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}},
    })
    login = f"spinit-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Sam", "lastName": "Init"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    settings = sp_settings(server, app["id"])
    settings["security"]["wantAttributeStatement"] = False  # this app sends no attributes
    sp = OneLogin_Saml2_Auth(acs_request(""), settings)
    redirect = sp.login(return_to="/dashboard")
    request_id = sp.get_last_request_id()
    assert redirect.startswith(f"{server['base']}/app/saml_2_0/{app['id']}/sso/saml?SAMLRequest=")
    browser = sign_in(server, login)
    html = browser.get(redirect, timeout=10).text
    action, fields = posted_form(html)
    assert action == ACS and fields["RelayState"] == "/dashboard"
    auth = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), settings)
    auth.process_response(request_id=request_id)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_nameid() == login
    # The same Response does not answer another request.
    other = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), settings)
    other.process_response(request_id="_another_request")
    assert not other.is_authenticated()


def _sp_keypair():
    """A key and self-signed certificate for the SP, made with `cryptography`."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sp.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem


def test_signed_authn_requests_are_required_when_configured(server, unique):
    key_pem, cert_pem = _sp_keypair()
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"Signed requests {unique}",
        "settings": {"signOn": {"ssoAcsUrl": ACS, "audience": AUDIENCE, "requestSigned": True, "spCertificate": cert_pem.strip(), "subjectNameIdTemplate": "${user.email}"}},
    })
    login = f"signed-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Sig", "lastName": "Ned"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    browser = sign_in(server, login)
    settings = sp_settings(server, app["id"])
    settings["security"].update({"authnRequestsSigned": True, "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "wantAttributeStatement": False})
    settings["sp"]["x509cert"] = cert_pem
    settings["sp"]["privateKey"] = key_pem
    sp = OneLogin_Saml2_Auth(acs_request(""), settings)
    signed = sp.login()
    assert "Signature=" in signed and "SigAlg=" in signed
    html = browser.get(signed, timeout=10).text
    _, fields = posted_form(html)
    auth = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), settings)
    auth.process_response(request_id=sp.get_last_request_id())
    assert auth.is_authenticated(), auth.get_last_error_reason()
    # unsigned, or with a signature that does not match: refused, nothing sent
    unsigned_settings = sp_settings(server, app["id"])
    unsigned = OneLogin_Saml2_Auth(acs_request(""), unsigned_settings).login()
    r = browser.get(unsigned, timeout=10)
    assert r.status_code == 400 and "SAMLResponse" not in r.text
    tampered = signed.replace("Signature=", "Signature=AAAA")
    r = browser.get(tampered, timeout=10)
    assert r.status_code == 400 and "SAMLResponse" not in r.text


def _totp(secret_b32, unix_secs):
    """RFC 6238 TOTP (SHA-1, 6 digits, 30 s), computed by hand."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(unix_secs) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def test_python3_saml_accepts_sign_on_after_authn_api_with_totp(server, unique):
    """A non-browser client: /api/v1/authn (password) -> MFA_REQUIRED -> factors/{id}/verify
    with a TOTP code -> sessionCookieRedirect -> the app's SSO URL -> the auto-POST form,
    whose SAMLResponse python3-saml accepts, asserted as two-factor."""
    app = api(server, "POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": f"TOTP SP {unique}",
        "settings": {"signOn": {
            "ssoAcsUrl": ACS, "audience": AUDIENCE,
            "subjectNameIdTemplate": "${user.email}", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "attributeStatements": [{"name": "login", "values": ["user.login"]}],
        }},
    })
    login = f"totp-{unique}@example.com"
    user = api(server, "POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Tot", "lastName": "P"}, "credentials": {"password": {"value": PW}}})
    api(server, "POST", f"/api/v1/apps/{app['id']}/users", {"id": user["id"]})
    # MFA for the members of one group only, so the other tests of this server are unaffected
    group = api(server, "POST", "/api/v1/groups", {"profile": {"name": f"mfa-{unique}"}})
    api(server, "PUT", f"/api/v1/groups/{group['id']}/users/{user['id']}")
    before = api(server, "GET", "/api/v1/idhub/policies/sign-on")
    api(server, "PUT", "/api/v1/idhub/policies/sign-on", {**before, "mfa": "GROUP", "mfaGroupId": group["id"]})
    try:
        base = server["base"]
        # first sign-in: enrollment of the TOTP factor
        a = requests.post(base + "/api/v1/authn", json={"username": login, "password": PW}, timeout=10).json()
        assert a["status"] == "MFA_ENROLL", a
        e = requests.post(base + "/api/v1/authn/factors", json={"stateToken": a["stateToken"], "factorType": "token:software:totp", "provider": "GOOGLE"}, timeout=10).json()
        secret = e["_embedded"]["factor"]["_embedded"]["activation"]["sharedSecret"]
        now = time.time()
        done = requests.post(e["_links"]["next"]["href"], json={"stateToken": a["stateToken"], "passCode": _totp(secret, now)}, timeout=10).json()
        assert done["status"] == "SUCCESS", done

        # the sign-in under test: password, MFA_REQUIRED, the factor verified
        client = requests.Session()
        a = client.post(base + "/api/v1/authn", json={"username": login, "password": PW}, timeout=10).json()
        assert a["status"] == "MFA_REQUIRED", a
        factor = a["_embedded"]["factors"][0]
        assert factor["factorType"] == "token:software:totp"
        verify = factor["_links"]["verify"]["href"]
        assert verify == f"{base}/api/v1/authn/factors/{factor['id']}/verify"
        wrong = client.post(verify, json={"stateToken": a["stateToken"], "passCode": _totp(secret, now + 3600)}, timeout=10)
        assert wrong.status_code == 403, wrong.text
        # a code of the next time step: the enrollment's step may not be used twice
        v = client.post(verify, json={"stateToken": a["stateToken"], "passCode": _totp(secret, now + 30)}, timeout=10).json()
        assert v["status"] == "SUCCESS", v
        sso = f"{base}/app/saml_2_0/{app['id']}/sso/saml"
        r = client.get(base + "/login/sessionCookieRedirect", params={"token": v["sessionToken"], "redirectUrl": sso + "?RelayState=%2Fafter-mfa"}, allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"].endswith("/sso/saml?RelayState=%2Fafter-mfa"), (r.status_code, r.headers)
        html = client.get(sso, params={"RelayState": "/after-mfa"}, timeout=10).text
        action, fields = posted_form(html)
        assert action == ACS and fields["RelayState"] == "/after-mfa"
        auth = OneLogin_Saml2_Auth(acs_request(fields["SAMLResponse"]), sp_settings(server, app["id"]))
        auth.process_response()
        assert auth.get_errors() == [], auth.get_last_error_reason()
        assert auth.is_authenticated()
        assert auth.get_nameid() == login
        assert auth.get_attributes()["login"] == [login]
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        assert "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered" in xml, "password + TOTP is asserted as two-factor"
    finally:
        api(server, "PUT", "/api/v1/idhub/policies/sign-on", before)
