"""The seeds' Org2Org walkthrough, end to end, across two idhub processes with separate
databases (spoke on 127.0.0.2, hub on 127.0.0.3), configured only through the public API
in Okta's shapes. A python3-saml service provider plays Dropbox Business.

On PostgreSQL (IDHUB_INTEROP_BACKEND=postgres) the spoke runs two nodes on one database
that share the provisioning queue; the walkthrough then also pushes a batch of users and
checks that each reaches the hub exactly once.
"""

import ctypes
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest
import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth

BIN = os.path.abspath(os.environ.get("IDHUB_BIN", "target/debug/idhub"))
BACKEND = os.environ.get("IDHUB_INTEROP_BACKEND", "sqlite")
DROPBOX_ACS = "https://dropbox.example/saml/acs"
DROPBOX_AUDIENCE = "Dropbox"
PW = "Contract0r-Pass"
FAST_WORKER = {
    "IDHUB_PROVISIONING__LEASE_MS": "3000",
    "IDHUB_PROVISIONING__BASE_BACKOFF_MS": "300",
    "IDHUB_PROVISIONING__MAX_BACKOFF_MS": "3000",
}


def _free_port(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _server_env(extra=None):
    # The harness's IDHUB_* variables (test database URLs, the binary) are not config.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDHUB_")}
    # the hub is on loopback, which the egress rule refuses unless allowed
    env["IDHUB_EGRESS__ALLOW"] = "127.0.0.0/8"
    env.update(extra or {})
    return env


def _cli(db_args, *args):
    r = subprocess.run([BIN, *args, *db_args], capture_output=True, text=True, env=_server_env(), timeout=120)
    assert r.returncode == 0, f"idhub {' '.join(args)}: {r.stdout}\n{r.stderr}"
    return r.stdout.strip()


def _psql():
    cands = [shutil.which("psql")] + sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)
    if os.environ.get("IDHUB_TEST_PG_BIN"):
        cands.insert(0, os.path.join(os.environ["IDHUB_TEST_PG_BIN"], "psql"))
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    pytest.fail("psql not found")


class Org:
    """An org served by one or more `idhub serve` nodes on one database."""

    def __init__(self, name, ip, workdir):
        self.name, self.ip = name, ip
        self.port = _free_port(ip)
        self.base = f"http://{ip}:{self.port}"
        if BACKEND == "postgres":
            admin = os.environ["IDHUB_TEST_PG_URL"]
            db = f"walk_{name}_{uuid.uuid4().hex[:8]}"
            r = subprocess.run([_psql(), admin, "-q", "-c", f"CREATE DATABASE {db}"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            self.db_args = ["--database-url", admin.rsplit("/", 1)[0] + "/" + db]
        else:
            self.db_args = ["--data-dir", os.path.join(workdir, name)]
        _cli(self.db_args, "org", "create", "--name", name, "--base-url", self.base)
        self.token = _cli(self.db_args, "token", "create", "--org", name, "--name", "admin")
        self.procs = []
        self.logs = []

    def start_node(self, port=None):
        port = port or self.port
        log = tempfile.NamedTemporaryFile(prefix=f"idhub-{self.name}-", suffix=".log", delete=False)
        self.logs.append(log.name)
        p = subprocess.Popen([BIN, "serve", "--listen", f"{self.ip}:{port}", *self.db_args], stdout=log, stderr=subprocess.STDOUT,
                             env=_server_env(FAST_WORKER), preexec_fn=_die_with_parent)
        self.procs.append(p)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(f"http://{self.ip}:{port}/health/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        pytest.fail(f"{self.name} node on {port} did not come up")

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    def api(self, method, path, body=None, expect=300, via=None):
        url = (via or self.base) + path
        headers = {"Authorization": "SSWS " + self.token}
        if via:
            headers["Host"] = urllib.parse.urlparse(self.base).netloc
        r = requests.request(method, url, json=body, headers=headers, timeout=30)
        assert r.status_code < expect, (method, path, r.status_code, r.text)
        return r.json() if r.text else None


@pytest.fixture
def orgs():
    work = tempfile.mkdtemp(prefix="idhub-walk-")
    hub, spoke = Org("hub", "127.0.0.3", work), Org("spoke", "127.0.0.2", work)
    hub.start_node()
    spoke.start_node()
    if BACKEND == "postgres":
        spoke.node2 = f"http://127.0.0.2:{_free_port('127.0.0.2')}"
        spoke.start_node(int(spoke.node2.rsplit(":", 1)[1]))
    else:
        spoke.node2 = None
    yield hub, spoke
    hub.stop()
    spoke.stop()
    shutil.rmtree(work, ignore_errors=True)


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def posted_form(html):
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', html))
    action = re.search(r'action="([^"]+)"', html).group(1).replace("&amp;", "&")
    return action, {k: v.replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", '"') for k, v in fields.items()}


def dropbox_accepts(hub, app_id, saml_response, login):
    """python3-saml, strict, configured from the hub app's certificate and issuer."""
    keys = hub.api("GET", f"/api/v1/apps/{app_id}/credentials/keys")
    cert = next(k for k in keys if k["status"] == "ACTIVE")["x5c"][0]
    md = requests.get(f"{hub.base}/api/v1/apps/{app_id}/sso/saml/metadata", headers={"Authorization": "SSWS " + hub.token}, timeout=10).text
    issuer = re.search(r'entityID="([^"]+)"', md).group(1)
    settings = {
        "strict": True, "debug": False,
        "sp": {"entityId": DROPBOX_AUDIENCE, "assertionConsumerService": {"url": DROPBOX_ACS, "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
               "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
        "idp": {"entityId": issuer, "singleSignOnService": {"url": f"{hub.base}/app/x/{app_id}/sso/saml", "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"}, "x509cert": cert},
        "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
    }
    u = urllib.parse.urlparse(DROPBOX_ACS)
    auth = OneLogin_Saml2_Auth({"https": "on", "http_host": u.netloc, "script_name": u.path, "get_data": {}, "post_data": {"SAMLResponse": saml_response}}, settings)
    auth.process_response()
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated() and auth.get_nameid() == login
    return auth


def test_the_seeds_walkthrough_spoke_to_hub_to_dropbox(orgs):
    hub, spoke = orgs
    login = "sarah@spoke.example"

    # Hub: Dropbox Business (a SAML app from the catalog) for a "Partner users" group, and an API token for the spoke.
    partners = hub.api("POST", "/api/v1/groups", {"profile": {"name": "Partner users"}})
    dropbox = hub.api("POST", "/api/v1/apps", {
        "signOnMode": "SAML_2_0", "label": "Dropbox Business",
        "settings": {"signOn": {"ssoAcsUrl": DROPBOX_ACS, "audience": DROPBOX_AUDIENCE, "subjectNameIdTemplate": "${user.email}",
                                "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                                "attributeStatements": [{"name": "firstName", "values": ["user.firstName"]}, {"name": "lastName", "values": ["user.lastName"]}]}},
    })
    hub.api("PUT", f"/api/v1/apps/{dropbox['id']}/groups/{partners['id']}", {})
    connector_token = _cli(hub.db_args, "token", "create", "--org", "hub", "--name", "Org2Org")

    # Spoke: the Org2Org app (its SSO URL, issuer and certificate go to the hub admin).
    o2o = spoke.api("POST", "/api/v1/apps", {"name": "okta_org2org", "label": "Hub", "settings": {"app": {"baseUrl": hub.base}}})
    sso_url = f"{spoke.base}/app/okta_org2org/{o2o['id']}/sso/saml"
    md = requests.get(f"{spoke.base}/api/v1/apps/{o2o['id']}/sso/saml/metadata", headers={"Authorization": "SSWS " + spoke.token}, timeout=10).text
    spoke_issuer = re.search(r'entityID="([^"]+)"', md).group(1)
    x5c = spoke.api("GET", f"/api/v1/apps/{o2o['id']}/credentials/keys")[0]["x5c"][0]

    # Hub: Security > Identity Providers > Add SAML 2.0 IdP (JIT, automatic linking).
    kid = hub.api("POST", "/api/v1/idps/credentials/keys", {"x5c": [x5c]})["kid"]
    idp = hub.api("POST", "/api/v1/idps", {
        "type": "SAML2", "name": "Org1",
        "protocol": {"type": "SAML2",
                     "endpoints": {"sso": {"url": sso_url, "binding": "HTTP-POST"}, "acs": {"binding": "HTTP-POST", "type": "INSTANCE"}},
                     "algorithms": {"request": {"signature": {"algorithm": "SHA-256", "scope": "REQUEST"}}, "response": {"signature": {"algorithm": "SHA-256", "scope": "ANY"}}},
                     "settings": {"nameFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", "honorPersistentNameId": True},
                     "credentials": {"trust": {"issuer": spoke_issuer, "kid": kid}}},
        "policy": {"provisioning": {"action": "AUTO", "profileMaster": True, "groups": {"action": "ASSIGN", "assignments": [partners["id"]]},
                                    "conditions": {"deprovisioned": {"action": "NONE"}, "suspended": {"action": "NONE"}}},
                   "accountLink": {"action": "AUTO", "filter": None},
                   "subject": {"userNameTemplate": {"template": "idpuser.subjectNameId"}, "matchType": "USERNAME"}, "maxClockSkew": 120000},
    })

    # Spoke: the hub's ACS URL and Audience URI; API integration (Test API Credentials); To App.
    o2o["settings"]["app"]["acsUrl"] = idp["_links"]["acs"]["href"]
    o2o["settings"]["app"]["audRestriction"] = idp["protocol"]["credentials"]["trust"]["audience"]
    spoke.api("PUT", f"/api/v1/apps/{o2o['id']}", o2o)
    bad = requests.post(f"{spoke.base}/api/v1/apps/{o2o['id']}/connections/default?activate=true", headers={"Authorization": "SSWS " + spoke.token},
                        json={"baseUrl": hub.base, "profile": {"authScheme": "TOKEN", "token": "00wrong"}}, timeout=30)
    assert bad.status_code == 400 and "401" in bad.text, bad.text
    conn = spoke.api("POST", f"/api/v1/apps/{o2o['id']}/connections/default?activate=true",
                     {"baseUrl": hub.base, "profile": {"authScheme": "TOKEN", "token": connector_token}})
    assert conn["status"] == "ENABLED"
    spoke.api("PUT", f"/api/v1/apps/{o2o['id']}/features/USER_PROVISIONING",
              {"capabilities": {"create": {"lifecycleCreate": {"status": "ENABLED"}}, "update": {"profile": {"status": "ENABLED"}, "lifecycleDeactivate": {"status": "ENABLED"}}}})

    # Spoke: Sarah in Contractors; Contractors assigned to the Org2Org app → Sarah is created in the hub.
    contractors = spoke.api("POST", "/api/v1/groups", {"profile": {"name": "Contractors"}})
    sarah = spoke.api("POST", "/api/v1/users?activate=true", {"profile": {"login": login, "email": login, "firstName": "Sarah", "lastName": "Lee"},
                                                               "credentials": {"password": {"value": PW}}, "groupIds": [contractors["id"]]})
    spoke.api("PUT", f"/api/v1/apps/{o2o['id']}/groups/{contractors['id']}", {"profile": {"initialStatus": "active"}}, via=spoke.node2)
    hub_user = wait_for("Sarah in the hub", lambda: requests.get(f"{hub.base}/api/v1/users/{login}", headers={"Authorization": "SSWS " + hub.token}, timeout=10).json()
                        if requests.get(f"{hub.base}/api/v1/users/{login}", headers={"Authorization": "SSWS " + hub.token}, timeout=10).status_code == 200 else None)
    assert hub_user["profile"]["lastName"] == "Lee"

    # Sarah signs in at the spoke and follows the Org2Org tile: she lands signed in on the hub dashboard.
    browser = requests.Session()
    tok = browser.post(f"{spoke.base}/api/v1/authn", json={"username": login, "password": PW}, timeout=10).json()["sessionToken"]
    r = browser.get(f"{spoke.base}/login/sessionCookieRedirect", params={"token": tok, "redirectUrl": f"{spoke.base}/app/UserHome"}, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303)
    dashboard = browser.get(f"{spoke.base}/app/UserHome", timeout=10).text
    assert sso_url.replace(spoke.base, "") in dashboard or sso_url in dashboard
    action, fields = posted_form(browser.get(sso_url, timeout=10).text)
    assert action == idp["_links"]["acs"]["href"]
    r = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and r.headers["location"] == "/app/UserHome", (r.status_code, r.text)
    hub_dash = browser.get(f"{hub.base}/app/UserHome", timeout=10)
    assert hub_dash.status_code == 200 and "Dropbox Business" in hub_dash.text

    # The Dropbox tile signs her in to the SP (python3-saml accepts).
    dropbox_sso = f"{hub.base}/app/{dropbox['name']}/{dropbox['id']}/sso/saml"
    action, fields = posted_form(browser.get(dropbox_sso, timeout=10).text)
    assert action == DROPBOX_ACS
    auth = dropbox_accepts(hub, dropbox["id"], fields["SAMLResponse"], login)
    assert auth.get_attributes()["firstName"] == ["Sarah"]

    # A bookmark in the spoke whose RelayState deep link goes straight to Dropbox through the hub.
    deep = requests.Session()
    tok = deep.post(f"{spoke.base}/api/v1/authn", json={"username": login, "password": PW}, timeout=10).json()["sessionToken"]
    deep.get(f"{spoke.base}/login/sessionCookieRedirect", params={"token": tok, "redirectUrl": f"{spoke.base}/app/UserHome"}, allow_redirects=False, timeout=10)
    bookmark_url = sso_url + "?RelayState=" + urllib.parse.quote(dropbox_sso, safe="")
    action, fields = posted_form(deep.get(bookmark_url, timeout=10).text)
    r = deep.post(action, data=fields, allow_redirects=False, timeout=10)
    assert r.headers["location"] == dropbox_sso
    action, fields = posted_form(deep.get(dropbox_sso, timeout=10).text)
    dropbox_accepts(hub, dropbox["id"], fields["SAMLResponse"], login)

    # A profile change in the spoke propagates to the hub.
    spoke.api("POST", f"/api/v1/users/{sarah['id']}", {"profile": {"lastName": "Park"}})
    wait_for("the new last name in the hub", lambda: hub.api("GET", f"/api/v1/users/{login}")["profile"]["lastName"] == "Park")

    # Deactivation in the spoke deactivates in the hub, and the next SSO is refused.
    spoke.api("POST", f"/api/v1/users/{sarah['id']}/lifecycle/deactivate")
    wait_for("Sarah deactivated in the hub", lambda: hub.api("GET", f"/api/v1/users/{login}")["status"] == "DEPROVISIONED")
    r = browser.get(dropbox_sso, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"], "the hub session ended with the user"
    r = browser.get(sso_url, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"], "the spoke session ended too"

    # Both System Logs tell the story.
    def events(org, t):
        return org.api("GET", "/api/v1/logs?filter=" + urllib.parse.quote(f'eventType eq "{t}"') + "&limit=100")
    assert [e["outcome"]["result"] for e in events(hub, "user.authentication.auth_via_IDP")] == ["SUCCESS", "SUCCESS"]
    assert events(hub, "user.lifecycle.create") and events(hub, "user.lifecycle.deactivate")
    assert len(events(hub, "user.authentication.sso")) == 2
    assert len(events(spoke, "user.authentication.sso")) == 2
    assert events(spoke, "user.lifecycle.deactivate")

    if spoke.node2:
        # Two spoke nodes share the queue: a batch pushed through both reaches the hub exactly once.
        batch = spoke.api("POST", "/api/v1/groups", {"profile": {"name": "Batch"}})
        for i in range(60):
            spoke.api("POST", "/api/v1/users?activate=true", {"profile": {"login": f"b{i}@spoke.example", "email": f"b{i}@spoke.example", "firstName": "B", "lastName": str(i)},
                                                               "groupIds": [batch["id"]]}, via=spoke.node2 if i % 2 else None)
        spoke.api("PUT", f"/api/v1/apps/{o2o['id']}/groups/{batch['id']}", {"profile": {"initialStatus": "active"}})
        def pushed():
            users = hub.api("GET", "/api/v1/users?search=" + urllib.parse.quote('profile.login sw "b"') + "&limit=200")
            return users if len(users) >= 60 else None
        users = wait_for("the batch in the hub", pushed, timeout=120)
        logins = [u["profile"]["login"] for u in users]
        assert len(logins) == len(set(logins)) == 60
