"""Independent SAML IdPs for the hub's inbound-SAML tests, and the hub calls they need.

Signers (code nobody here wrote):
  - a pysaml2 IdP (`saml2.server.Server`, which signs through the `xmlsec1` binary), with
    its own RSA key and self-signed certificate made at test time by `cryptography`;
  - the `xmlsec1` CLI (`xmlsec1 --sign`) over a Response template with enveloped
    `ds:Signature` templates, IDs declared with `--id-attr:ID`.

Hub side (Okta's wire shape, okta-wire.md §2 and §5): register the IdP's certificate
(`POST /api/v1/idps/credentials/keys`), create a SAML2 IdP (`POST /api/v1/idps`) with JIT
and automatic linking, post a Response to its ACS (`_links.acs.href`), and read the
System Log events of `user.authentication.auth_via_IDP`.

Everything talks to 127.0.0.1 only; nothing is downloaded.
"""

import base64
import datetime
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import requests

NS_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
DIGEST_SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
AC_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
EVENT = "user.authentication.auth_via_IDP"

# xmlsec1 must be told which attributes are IDs (no schema is loaded).
ID_ATTRS = ["--id-attr:ID", f"{NS_PROTOCOL}:Response", "--id-attr:ID", f"{NS_ASSERTION}:Assertion"]
RESPONSE_SIG = "/*[local-name()='Response']/*[local-name()='Signature']"
ASSERTION_SIG = "//*[local-name()='Assertion']/*[local-name()='Signature']"

SCOPES = {"assertion": (False, True), "response": (True, False), "both": (True, True)}


# ---------------------------------------------------------------------------------------
# Keys


@dataclass
class KeyPair:
    """An RSA-2048 key and its self-signed certificate, also written to files (for xmlsec1)."""

    key_pem: str
    cert_pem: str
    cert_b64: str
    key_file: str
    cert_file: str


def make_keypair(cn, workdir):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    tag = uuid.uuid4().hex[:8]
    key_file = os.path.join(workdir, f"{tag}.key.pem")
    cert_file = os.path.join(workdir, f"{tag}.cert.pem")
    with open(key_file, "w") as f:
        f.write(key_pem)
    with open(cert_file, "w") as f:
        f.write(cert_pem)
    return KeyPair(key_pem, cert_pem, cert_b64, key_file, cert_file)


def keypair_from_files(key_file, cert_file):
    """A committed key pair (the saml crate's test vectors), for reproducible fuzz seeds."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    with open(key_file) as f:
        key_pem = f.read()
    with open(cert_file) as f:
        cert_pem = f.read()
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    return KeyPair(key_pem, cert_pem, base64.b64encode(der).decode(), key_file, cert_file)


# ---------------------------------------------------------------------------------------
# What a Response must say to be accepted by one hub IdP


@dataclass
class Target:
    """The hub IdP's side of the trust: where and to whom a Response is addressed."""

    acs: str
    audience: str
    issuer: str


@dataclass
class Subject:
    name_id: str
    attributes: dict = field(default_factory=dict)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def instant(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id():
    return "_" + uuid.uuid4().hex


# ---------------------------------------------------------------------------------------
# The xmlsec1 CLI as signer


def _sig_template(ref_id, sig_alg=RSA_SHA256, digest_alg=DIGEST_SHA256):
    return (
        f'<ds:Signature xmlns:ds="{NS_DSIG}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="{sig_alg}"/>'
        f'<ds:Reference URI="#{ref_id}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'</ds:Transforms><ds:DigestMethod Algorithm="{digest_alg}"/><ds:DigestValue></ds:DigestValue></ds:Reference>'
        "</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
    )


def response_template(
    target,
    subject,
    *,
    sign_response,
    sign_assertion,
    now=None,
    lifetime=300,
    not_before_offset=-60,
    issuer=None,
    audience=None,
    destination=None,
    recipient=None,
    in_response_to=None,
    status=STATUS_SUCCESS,
    sig_alg=RSA_SHA256,
    digest_alg=DIGEST_SHA256,
    response_id=None,
    assertion_id=None,
):
    """A Response (the shape Okta's spoke sends) with empty signature templates right after
    each Issuer that is to be signed. Every value is XML-escaped. Keyword arguments
    override one field each, for the negative corpus."""
    now = now or now_utc()
    rid = response_id or new_id()
    aid = assertion_id or new_id()
    issuer = issuer or target.issuer
    audience = audience or target.audience
    destination = destination or target.acs
    recipient = recipient or target.acs
    irt_attr = f" InResponseTo={quoteattr(in_response_to)}" if in_response_to else ""
    until = instant(now + datetime.timedelta(seconds=lifetime))
    attrs = "".join(
        f"<saml:Attribute Name={quoteattr(k)} NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified\">"
        + "".join(f'<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">{escape(v)}</saml:AttributeValue>' for v in (vs if isinstance(vs, list) else [vs]))
        + "</saml:Attribute>"
        for k, vs in subject.attributes.items()
    )
    attr_statement = f"<saml:AttributeStatement>{attrs}</saml:AttributeStatement>" if attrs else ""
    assertion = (
        f'<saml:Assertion xmlns:saml="{NS_ASSERTION}" ID="{aid}" IssueInstant="{instant(now)}" Version="2.0">'
        f'<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{escape(issuer)}</saml:Issuer>'
        + (_sig_template(aid, sig_alg, digest_alg) if sign_assertion else "")
        + f"<saml:Subject><saml:NameID Format=\"{NAMEID_UNSPECIFIED}\">{escape(subject.name_id)}</saml:NameID>"
        f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f"<saml:SubjectConfirmationData{irt_attr} NotOnOrAfter=\"{until}\" Recipient={quoteattr(recipient)}/>"
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{instant(now + datetime.timedelta(seconds=not_before_offset))}" NotOnOrAfter="{until}">'
        f"<saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{instant(now)}" SessionIndex="{new_id()}">'
        f"<saml:AuthnContext><saml:AuthnContextClassRef>{AC_PASSWORD}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f"{attr_statement}</saml:Assertion>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<samlp:Response xmlns:samlp="{NS_PROTOCOL}" Destination={quoteattr(destination)} ID="{rid}"{irt_attr} IssueInstant="{instant(now)}" Version="2.0">'
        f'<saml:Issuer xmlns:saml="{NS_ASSERTION}" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{escape(issuer)}</saml:Issuer>'
        + (_sig_template(rid, sig_alg, digest_alg) if sign_response else "")
        + f'<samlp:Status><samlp:StatusCode Value={quoteattr(status)}/></samlp:Status>'
        + assertion
        + "</samlp:Response>"
    )


def xmlsec1_sign(xml, kp, node_xpath, extra_id_attrs=()):
    """`xmlsec1 --sign` of the signature template at `node_xpath` with `kp`'s key; its
    certificate goes into the template's KeyInfo."""
    with tempfile.TemporaryDirectory(prefix="idhub-xmlsec1-") as d:
        src = os.path.join(d, "in.xml")
        out = os.path.join(d, "out.xml")
        with open(src, "w") as f:
            f.write(xml)
        r = subprocess.run(
            ["xmlsec1", "--sign", *ID_ATTRS, *extra_id_attrs, "--node-xpath", node_xpath, "--privkey-pem", f"{kp.key_file},{kp.cert_file}", "--output", out, src],
            capture_output=True, text=True, timeout=60,
        )
        assert r.returncode == 0, f"xmlsec1 --sign failed: {r.stderr}"
        with open(out) as f:
            return f.read()


def xmlsec1_response(kp, target, subject, scope="assertion", **overrides):
    """A Response signed by the xmlsec1 CLI: the Assertion first, then the Response (whose
    digest then covers the Assertion's signature)."""
    sign_response, sign_assertion = SCOPES[scope]
    xml = response_template(target, subject, sign_response=sign_response, sign_assertion=sign_assertion, **overrides)
    if sign_assertion:
        xml = xmlsec1_sign(xml, kp, ASSERTION_SIG)
    if sign_response:
        xml = xmlsec1_sign(xml, kp, RESPONSE_SIG)
    return xml


# ---------------------------------------------------------------------------------------
# A pysaml2 IdP as signer


class Pysaml2Idp:
    """A pysaml2 identity provider with its own key, that knows one SP from its metadata."""

    def __init__(self, kp, entity_id, sp_metadata_xml, workdir):
        from saml2.config import IdPConfig
        from saml2.server import Server

        md = os.path.join(workdir, f"sp-{uuid.uuid4().hex[:8]}.xml")
        with open(md, "w") as f:
            f.write(sp_metadata_xml)
        conf = IdPConfig()
        conf.load({
            "entityid": entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": kp.key_file,
            "cert_file": kp.cert_file,
            "metadata": {"local": [md]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(entity_id + "/sso", BINDING_POST)]},
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}},
            }},
        })
        self.entity_id = entity_id
        self.server = Server(config=conf)

    def acs_of(self, sp_entity_id):
        """The POST ACS location the SP's metadata names (as pysaml2 read it)."""
        return [e["location"] for e in self.server.metadata.assertion_consumer_service(sp_entity_id, BINDING_POST)]

    def response(self, target, subject, scope="assertion", sign_alg=RSA_SHA256, digest_alg=DIGEST_SHA256, in_response_to=None):
        from saml2.saml import NameID

        sign_response, sign_assertion = SCOPES[scope]
        identity = {k: (v if isinstance(v, list) else [v]) for k, v in subject.attributes.items()}
        return str(self.server.create_authn_response(
            identity, in_response_to, target.acs, target.audience,
            name_id=NameID(format=NAMEID_UNSPECIFIED, text=subject.name_id),
            authn={"class_ref": AC_PASSWORD, "authn_auth": self.entity_id},
            sign_response=sign_response, sign_assertion=sign_assertion, sign_alg=sign_alg, digest_alg=digest_alg,
        ))


def sp_metadata(target):
    """Stand-in SP metadata for runs without a hub (the self-check); the hub serves its own."""
    return (
        '<?xml version="1.0"?>'
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID={quoteattr(target.audience)}>'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAssertionsSigned="true">'
        f"<md:NameIDFormat>{NAMEID_UNSPECIFIED}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{BINDING_POST}" Location={quoteattr(target.acs)} index="0" isDefault="true"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    )


def b64(xml):
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


# ---------------------------------------------------------------------------------------
# The hub


def api(server, method, path, body=None, ok=True):
    r = requests.request(method, server["base"] + path, json=body, headers={"Authorization": "SSWS " + server["token"], "Accept": "application/json"}, timeout=15)
    if ok:
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.text else None
    return r


def idp_api_present(server):
    """Whether the hub has the IdP API yet (issue 6). A 404 on the list means it does not."""
    return api(server, "GET", "/api/v1/idps", ok=False).status_code != 404


def register_idp(server, kp, issuer, name, **policy):
    """Registers `kp`'s certificate and creates a SAML2 IdP trusting it (JIT and automatic
    linking by default). Returns (idp JSON, Target)."""
    key = api(server, "POST", "/api/v1/idps/credentials/keys", {"x5c": [kp.cert_b64]})
    assert key["kid"] and key["x5c"] == [kp.cert_b64] and key["kty"] == "RSA" and key["use"] == "sig", key
    assert "x5t#S256" in key, key
    body = {
        "type": "SAML2",
        "name": name,
        "protocol": {
            "type": "SAML2",
            "endpoints": {
                "sso": {"url": issuer + "/sso", "binding": "HTTP-POST", "destination": issuer + "/sso"},
                "acs": {"binding": "HTTP-POST", "type": "INSTANCE"},
            },
            "algorithms": {
                "request": {"signature": {"algorithm": "SHA-256", "scope": "NONE"}},
                "response": {"signature": {"algorithm": "SHA-256", "scope": policy.get("scope", "ANY")}},
            },
            "credentials": {"trust": {"issuer": issuer, "kid": key["kid"]}},
        },
        "policy": {
            "provisioning": {
                "action": policy.get("provisioning", "AUTO"),
                "profileMaster": policy.get("profile_master", True),
                "groups": {"action": "NONE"},
                "conditions": {"deprovisioned": {"action": "NONE"}, "suspended": {"action": "NONE"}},
            },
            "accountLink": {"filter": None, "action": policy.get("link", "AUTO")},
            "subject": {"userNameTemplate": {"template": "idpuser.subjectNameId"}, "filter": None, "matchType": "USERNAME"},
            "maxClockSkew": 120000,
        },
    }
    idp = api(server, "POST", "/api/v1/idps", body)
    assert idp["id"] and idp["status"] == "ACTIVE", idp
    acs = idp["_links"]["acs"]["href"]
    assert acs == f"{server['base']}/sso/saml2/{idp['id']}", acs
    assert idp["_links"]["metadata"]["href"] == f"{server['base']}/api/v1/idps/{idp['id']}/metadata.xml", idp["_links"]
    audience = idp["protocol"]["credentials"]["trust"]["audience"]
    assert audience, "the hub generates an audience when none is given"
    return idp, Target(acs=acs, audience=audience, issuer=issuer)


def sp_metadata_of(server, idp):
    r = requests.get(idp["_links"]["metadata"]["href"], headers={"Authorization": "SSWS " + server["token"]}, timeout=15)
    assert r.status_code == 200, (r.status_code, r.text)
    assert "EntityDescriptor" in r.text, r.text
    return r.text


def post_acs(target, saml_response, relay_state=None, session=None):
    """Posts to the ACS as a browser would (HTTP-POST binding); redirects not followed."""
    s = session or requests.Session()
    form = {"SAMLResponse": saml_response}
    if relay_state is not None:
        form["RelayState"] = relay_state
    r = s.post(target.acs, data=form, allow_redirects=False, timeout=30)
    return s, r


def redirect_target(server, r):
    return urllib.parse.urljoin(server["base"] + "/", r.headers.get("Location", ""))


def signed_in_as(server, session):
    """The login the dashboard shows for this browser, or None when it is not signed in."""
    import re

    r = session.get(server["base"] + "/app/UserHome", allow_redirects=False, timeout=15)
    if r.status_code != 200:
        return None
    m = re.search(r'id="current-user">([^<]*)<', r.text)
    return m and m.group(1)


def users_snapshot(server):
    """Every user with what a sign-in could change (status, profile, credentials, timestamps)."""
    out, url = {}, "/api/v1/users?limit=200"
    while url:
        r = api(server, "GET", url, ok=False)
        assert r.status_code == 200, r.text
        for u in r.json():
            out[u["id"]] = {k: u.get(k) for k in ("status", "profile", "credentials", "lastUpdated", "lastLogin", "statusChanged")}
        nxt = r.links.get("next", {}).get("url")
        url = nxt[len(server["base"]):] if nxt and nxt.startswith(server["base"]) else None
    return out


def idp_events(server):
    """The `user.authentication.auth_via_IDP` events, uuid → event."""
    flt = urllib.parse.quote(f'eventType eq "{EVENT}"')
    r = api(server, "GET", f"/api/v1/logs?filter={flt}&limit=1000", ok=False)
    assert r.status_code == 200, r.text
    return {e["uuid"]: e for e in r.json()}
