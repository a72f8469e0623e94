"""Fixtures of the browser suite: one idhub serving two orgs on two loopback addresses
(the spoke, Org1, at 127.0.0.2 and the hub, Org2, at 127.0.0.3: separate hosts, so
separate cookies, as two Okta orgs would be) and a third org for the end-user tests at
127.0.0.5, their people made through the API, Dropbox Business (a python3-saml SP) at
127.0.0.4, and
headless Chromium browsers whose screenshots land in target/browser-artifacts/<backend>/.
"""

import os
import socket

import pytest
import requests

from dropbox_sp import DropboxSP
from hub_relay import HubRelay
from steps import PASSWORD
from webdriver import Browser

BACKEND = os.environ.get("IDHUB_INTEROP_BACKEND", "sqlite")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _port_free_on(*hosts):
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for h in hosts:
                with socket.socket() as s:
                    s.bind((h, port))
            return port
        except OSError:
            continue
    pytest.fail("no port free on both loopback addresses")


class Org:
    def __init__(self, base, token, name):
        self.base, self.token, self.name = base, token, name
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers.update({"Authorization": f"SSWS {token}", "Accept": "application/json"})

    def api(self, method, path, **kw):
        r = self.http.request(method, self.base + path, timeout=30, **kw)
        return r

    def person(self, login, first, last, role=None):
        body = {"profile": {"login": login, "email": login, "firstName": first, "lastName": last},
                "credentials": {"password": {"value": PASSWORD}}}
        r = self.api("POST", "/api/v1/users?activate=true", json=body)
        assert r.status_code == 200, r.text
        uid = r.json()["id"]
        if role:
            r = self.api("POST", f"/api/v1/users/{uid}/roles", json={"type": role})
            assert r.status_code == 201, r.text
        return uid


@pytest.fixture(scope="session")
def orgs(request, serve_orgs):
    idhub_serve, new_org = serve_orgs
    port = _port_free_on("127.0.0.2", "127.0.0.3", "127.0.0.5")
    spoke_base, hub_base, lab_base = f"http://127.0.0.2:{port}", f"http://127.0.0.3:{port}", f"http://127.0.0.5:{port}"
    with idhub_serve(request, [f"127.0.0.2:{port}", f"127.0.0.3:{port}", f"127.0.0.5:{port}"]) as (cli, _log):
        _, spoke_name, spoke_token = new_org(cli, spoke_base)
        _, hub_name, hub_token = new_org(cli, hub_base)
        spoke, hub = Org(spoke_base, spoke_token, spoke_name), Org(hub_base, hub_token, hub_name)
        spoke.person("admin@org1.example", "Ada", "Admin", "SUPER_ADMIN")
        spoke.person("viewer@org1.example", "Vic", "Viewer", "READ_ONLY_ADMIN")
        spoke.person("sarah@org1.example", "Sarah", "Lee")
        hub.person("admin@org2.example", "Hal", "Hub", "SUPER_ADMIN")
        # a third org for the end-user tests (MFA policy, lockout), so that what they
        # change never reaches the Org2Org walkthrough's orgs
        _, lab_name, lab_token = new_org(cli, lab_base)
        lab = Org(lab_base, lab_token, lab_name)
        lab.person("admin@lab.example", "Lea", "Lab", "SUPER_ADMIN")
        yield {"spoke": spoke, "hub": hub, "lab": lab}


@pytest.fixture(scope="session")
def dropbox():
    """Dropbox Business: a python3-saml SP on 127.0.0.4 that end users' browsers reach as
    https://www.dropbox.com (see dropbox_sp.py)."""
    sp = DropboxSP("127.0.0.4")
    yield sp
    sp.close()


@pytest.fixture(scope="session")
def hub_relay(orgs):
    """The hub's API behind a relay on 127.0.0.6 that the test can take down (hub_relay.py)."""
    relay = HubRelay("127.0.0.6", orgs["hub"].base)
    yield relay
    relay.close()


@pytest.fixture(scope="session")
def artifacts():
    """The backend's screenshot folder, emptied of earlier runs' screenshots and driver
    logs at session start: what it holds is always from this run."""
    path = os.environ.get("IDHUB_BROWSER_ARTIFACTS") or os.path.join(ROOT, "target", "browser-artifacts", BACKEND)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".png") or (name.startswith("chromedriver-") and name.endswith(".log")):
            os.remove(os.path.join(path, name))
    return path


@pytest.fixture
def browser(artifacts, request):
    """A factory of signed-out browsers, each named for the test and the actor."""
    opened = []

    def make(actor, width=1280, height=900, args=()):
        b = Browser(artifacts, f"{request.node.name.removeprefix('test_')}-{actor}", width, height, args)
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.quit()
