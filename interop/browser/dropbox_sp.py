"""Dropbox Business played by a real SAML service provider: python3-saml (strict, signed
assertions wanted) behind a small threaded HTTPS server on a loopback address.

The hub's Dropbox Business app comes from the catalog, so its ACS URL and audience are
Dropbox's own (https://www.dropbox.com/saml_login, audience "Dropbox"). The end user's
Chromium resolves www.dropbox.com to this server (--host-resolver-rules) and accepts only
this server's self-signed certificate (--ignore-certificate-errors-spki-list), so the
browser posts the hub's SAMLResponse exactly where the catalog says, and nothing leaves
127.0.0.0/8. Like Dropbox's admin console, the SP is configured with the hub's sign-on URL
and signing certificate (`configure`), which the test reads from the hub's Sign On tab.
"""

import base64
import datetime
import hashlib
import html
import os
import ssl
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from onelogin.saml2.auth import OneLogin_Saml2_Auth

HOST = "www.dropbox.com"
ACS_PATH = "/saml_login"
AUDIENCE = "Dropbox"


def _self_signed(host):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _page(title, body):
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;margin:3em'><h1 id=sp-title>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


class DropboxSP:
    """The SP; `browser_args()` are the Chromium flags that route www.dropbox.com here."""

    def __init__(self, address):
        self.idp = None
        self.logins = []
        cert, key, self.spki = _self_signed(HOST)
        self.dir = tempfile.mkdtemp(prefix="idhub-dropbox-")
        cert_path, key_path = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert)
        with open(key_path, "wb") as f:
            f.write(key)
        sp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(200, _page("Dropbox Business", "<p>Sign in through your identity provider.</p>"))

            def do_POST(self):
                if self.path.split("?")[0] != ACS_PATH:
                    return self._send(404, _page("Not found", ""))
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                status, body = sp.consume(self.headers.get("Host", ""), {k: v[0] for k, v in form.items()})
                self._send(status, body)

        self.server = ThreadingHTTPServer((address, 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.address = f"{address}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def browser_args(self):
        return [f"--host-resolver-rules=MAP {HOST} {self.address}", f"--ignore-certificate-errors-spki-list={self.spki}"]

    def configure(self, sign_on_url, issuer, certificate_pem):
        """Dropbox's admin console: Single sign-on with the IdP's sign-on URL and certificate."""
        body = "".join(l for l in certificate_pem.strip().splitlines() if "CERTIFICATE" not in l)
        self.idp = {"entityId": issuer, "singleSignOnService": {"url": sign_on_url, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
                    "x509cert": body}

    def consume(self, host, post):
        if not self.idp:
            return 503, _page("Dropbox Business — single sign-on is not configured", "")
        settings = {
            "strict": True, "debug": False,
            "sp": {"entityId": AUDIENCE, "assertionConsumerService": {"url": f"https://{HOST}{ACS_PATH}", "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
                   "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
            "idp": self.idp,
            "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True,
                         "wantAttributeStatement": False},  # Dropbox needs only the NameID
        }
        try:
            auth = OneLogin_Saml2_Auth({"https": "on", "http_host": host, "script_name": ACS_PATH, "get_data": {}, "post_data": post}, settings)
            auth.process_response()
            errors, reason = auth.get_errors(), auth.get_last_error_reason()
        except Exception as e:  # a malformed response is a refusal too, shown to the user
            errors, reason = ["exception"], str(e)
        if errors or not auth.is_authenticated():
            return 403, _page("Dropbox Business — sign-in refused",
                              f"<p id=sp-error>{html.escape(', '.join(errors))}: {html.escape(reason or '')}</p>")
        login = auth.get_nameid()
        self.logins.append(login)
        return 200, _page(f"Dropbox Business — signed in as {login}",
                          f"<p>Welcome to your team's Dropbox.</p><p id=sp-nameid>{html.escape(login)}</p>"
                          f"<p id=sp-issuer>{html.escape(self.idp['entityId'])}</p>")

    def close(self):
        self.server.shutdown()
        self.server.server_close()
