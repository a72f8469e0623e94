"""Outside IdPs sign people in to the hub: a pysaml2 IdP and the `xmlsec1` CLI sign
Responses (Assertion signed, Response signed, both) for an IdP created through the hub's
Okta-shaped API (certificate via credentials/keys, JIT and automatic linking); each is
posted to the hub's ACS, and the person lands signed in on the dashboard, created just
in time with a FEDERATION provider and the asserted profile, and is matched to the same
user (linked) on the next sign-in. Needs the hub's IdP API and ACS (issue 6): XFAIL
(PENDING) until the hub has them."""

import urllib.parse

import pytest
import requests

import peers
from peers import Subject, api, b64, post_acs, redirect_target, signed_in_as, users_snapshot


def new_events(server, before, result):
    return [e for u, e in peers.idp_events(server).items() if u not in before and e["outcome"]["result"] == result]


def assert_signed_in(server, r, session, login, relay_target=None):
    assert r.status_code in (302, 303), (r.status_code, r.text[:1000])
    assert redirect_target(server, r) == (relay_target or server["base"] + "/app/UserHome"), r.headers.get("Location")
    assert signed_in_as(server, session) == login


def user_by_login(server, login):
    return api(server, "GET", "/api/v1/users/" + urllib.parse.quote(login, safe="@"))


def check_jit_then_linked(server, target, login, first, second):
    """`first()` and `second()` each return a fresh signed Response (base64) for `login`."""
    users_before, events_before = users_snapshot(server), peers.idp_events(server)
    s, r = post_acs(target, first())
    assert_signed_in(server, r, s, login)
    user = user_by_login(server, login)
    assert set(users_snapshot(server)) - set(users_before) == {user["id"]}, "exactly one user created just in time"
    assert user["status"] == "ACTIVE", user
    assert user["credentials"]["provider"]["type"] == "FEDERATION", user["credentials"]
    p = user["profile"]
    assert (p["login"], p["email"], p["firstName"], p["lastName"]) == (login, login, "Ada", "Lovelace"), p
    ok = new_events(server, events_before, "SUCCESS")
    assert len(ok) == 1, ok

    # The next sign-in finds the same, now linked, user: nobody new.
    users_after_first = users_snapshot(server)
    s2, r2 = post_acs(target, second())
    assert_signed_in(server, r2, s2, login)
    assert set(users_snapshot(server)) == set(users_after_first)
    assert user_by_login(server, login)["id"] == user["id"]


def fresh_idp(server, workdir, label, unique):
    """A new key pair and a hub IdP trusting it: (key pair, IdP JSON, Target)."""
    kp = peers.make_keypair(f"{label} idp", workdir)
    idp, target = peers.register_idp(server, kp, f"https://{label}-idp-{unique}.test/idp", f"{label} {unique}")
    return kp, idp, target


def ada(login):
    return Subject(login, {"firstName": "Ada", "lastName": "Lovelace", "email": login})


@pytest.mark.parametrize("scope", ["assertion", "response", "both"])
def test_pysaml2_idp_signs_in_jit_then_linked(hub_idp_api, workdir, unique, scope):
    server = hub_idp_api
    kp, idp, target = fresh_idp(server, workdir, f"pysaml2-{scope}", unique)
    # pysaml2 reads the hub's SP metadata: it must name this ACS for the audience.
    pyidp = peers.Pysaml2Idp(kp, target.issuer, peers.sp_metadata_of(server, idp), workdir)
    assert pyidp.acs_of(target.audience) == [target.acs]
    login = f"py2-{scope}-{unique}@example.com"

    def signed():
        xml = pyidp.response(target, ada(login), scope)
        assert "rsa-sha256" in xml and "rsa-sha1" not in xml
        return b64(xml)

    check_jit_then_linked(server, target, login, signed, signed)


@pytest.mark.parametrize("scope", ["assertion", "response", "both"])
def test_xmlsec1_signed_responses_sign_in_jit_then_linked(hub_idp_api, workdir, unique, scope):
    server = hub_idp_api
    kp, _, target = fresh_idp(server, workdir, f"xmlsec1-{scope}", unique)
    login = f"xs-{scope}-{unique}@example.com"

    def signed():
        return b64(peers.xmlsec1_response(kp, target, ada(login), scope))

    check_jit_then_linked(server, target, login, signed, signed)


def test_existing_user_is_linked_automatically_not_duplicated(hub_idp_api, workdir, unique):
    server = hub_idp_api
    login = f"existing-{unique}@example.com"
    existing = api(server, "POST", "/api/v1/users?activate=true", {
        "profile": {"login": login, "email": login, "firstName": "Ada", "lastName": "Lovelace"},
        "credentials": {"password": {"value": "Str0ng-Passw0rd"}},
    })
    kp, _, target = fresh_idp(server, workdir, "link", unique)
    before = set(users_snapshot(server))
    for _ in range(2):  # linked on the first sign-in, found through the link on the second
        s, r = post_acs(target, b64(peers.xmlsec1_response(kp, target, ada(login), "assertion")))
        assert_signed_in(server, r, s, login)
        assert set(users_snapshot(server)) == before, "automatic linking must not create a user"
        assert user_by_login(server, login)["id"] == existing["id"]


def test_relay_state_same_org_only(hub_idp_api, workdir, unique):
    server = hub_idp_api
    kp, _, target = fresh_idp(server, workdir, "relay", unique)
    login = f"relay-{unique}@example.com"
    same_org = server["base"] + "/app/UserHome?from=idp"
    s, r = post_acs(target, b64(peers.xmlsec1_response(kp, target, ada(login), "both")), relay_state=same_org)
    assert_signed_in(server, r, s, login, relay_target=same_org)
    # Not an open redirect: another site's URL lands on the dashboard.
    s, r = post_acs(target, b64(peers.xmlsec1_response(kp, target, ada(login), "both")), relay_state="https://evil.example/phish")
    assert_signed_in(server, r, s, login)


def test_replayed_response_is_refused(hub_idp_api, workdir, unique):
    server = hub_idp_api
    kp, _, target = fresh_idp(server, workdir, "replay", unique)
    login = f"replay-{unique}@example.com"
    form = b64(peers.xmlsec1_response(kp, target, ada(login), "both"))
    s, r = post_acs(target, form)
    assert_signed_in(server, r, s, login)
    users, events = users_snapshot(server), peers.idp_events(server)
    # The same Response again, from another browser (an attacker who captured it).
    s2, r2 = post_acs(target, form, session=requests.Session())
    assert 400 <= r2.status_code < 500, (r2.status_code, r2.text[:500])
    assert signed_in_as(server, s2) is None
    assert users_snapshot(server) == users
    failures = new_events(server, events, "FAILURE")
    assert len(failures) == 1 and "replay" in (failures[0]["outcome"].get("reason") or ""), failures


def test_deactivated_idp_signs_in_no_one(hub_idp_api, workdir, unique):
    """saml-security.md 9: a disabled IdP authenticates no one, even with a genuine Response."""
    server = hub_idp_api
    kp, idp, target = fresh_idp(server, workdir, "inactive", unique)
    assert api(server, "POST", f"/api/v1/idps/{idp['id']}/lifecycle/deactivate")["status"] == "INACTIVE"
    login = f"inactive-{unique}@example.com"
    users, events = users_snapshot(server), peers.idp_events(server)
    s, r = post_acs(target, b64(peers.xmlsec1_response(kp, target, ada(login), "both")))
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert signed_in_as(server, s) is None
    assert users_snapshot(server) == users
    assert len(new_events(server, events, "FAILURE")) == 1
