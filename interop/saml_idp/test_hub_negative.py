"""The negative corpus end to end: every case of corpus.py (each class of
saml-security.md, built from Responses signed by the `xmlsec1` CLI and by pysaml2) is
posted to the hub's ACS, and each must be refused with a 4xx page (never a 500), leave
every user as it was (no one created, changed or signed in), leave the server healthy,
and write one `user.authentication.auth_via_IDP` FAILURE event naming the reason. The
replay case is in test_hub_positive.py (it needs one accepted sign-in first). Needs the
hub's IdP API and ACS (issue 6): XFAIL (PENDING) until the hub has them."""

import requests

import corpus
import peers


def test_every_negative_case_is_refused_and_changes_nothing(hub_idp_api, workdir, unique):
    server = hub_idp_api
    kp = peers.make_keypair("negative idp", workdir)
    attacker = peers.make_keypair("attacker", workdir)
    issuer = f"https://negative-idp-{unique}.test/idp"
    idp, target = peers.register_idp(server, kp, issuer, f"negative {unique}")
    pyidp = peers.Pysaml2Idp(kp, issuer, peers.sp_metadata_of(server, idp), workdir)
    victim = f"victim-{unique}@example.com"
    peers.api(server, "POST", "/api/v1/users?activate=true", {
        "profile": {"login": victim, "email": victim, "firstName": "Victor", "lastName": "Im"},
        "credentials": {"password": {"value": "Str0ng-Passw0rd"}},
    })
    genuine = f"mallory-{unique}@example.com"
    cases = corpus.negative_corpus(kp, attacker, target, genuine, victim, pyidp)

    problems = []
    for case in cases:
        users, events = peers.users_snapshot(server), peers.idp_events(server)
        browser = requests.Session()
        _, r = peers.post_acs(target, case.form, session=browser)
        where = f"{case.name} ({case.what})"
        if not 400 <= r.status_code < 500:
            problems.append(f"{where}: HTTP {r.status_code}, not 4xx: {r.text[:300]!r}")
        elif "text/html" not in r.headers.get("Content-Type", ""):
            problems.append(f"{where}: the refusal is not an HTML page ({r.headers.get('Content-Type')})")
        if peers.signed_in_as(server, browser) is not None:
            problems.append(f"{where}: the browser is signed in")
        health = requests.get(server["base"] + "/health/ready", timeout=10)
        if health.status_code != 200:
            problems.append(f"{where}: /health/ready answers {health.status_code}")
        after = peers.users_snapshot(server)
        if after != users:
            created = set(after) - set(users)
            changed = [u for u in users if u in after and after[u] != users[u]]
            problems.append(f"{where}: users changed (created {sorted(created)}, changed {changed})")
        new = [e for u, e in peers.idp_events(server).items() if u not in events]
        failures = [e for e in new if e["outcome"]["result"] == "FAILURE"]
        if len(new) != 1 or len(failures) != 1:
            problems.append(f"{where}: expected one FAILURE event, got {[(e['outcome']['result'], e['outcome'].get('reason')) for e in new]}")
        elif failures[0]["outcome"].get("reason") not in case.expect:
            problems.append(f"{where}: logged reason {failures[0]['outcome'].get('reason')!r}, expected one of {case.expect}")
    assert problems == [], "\n".join(problems)
    # Nobody was created for the attacker's own genuine assertions either.
    r = peers.api(server, "GET", "/api/v1/users/" + genuine, ok=False)
    assert r.status_code == 404, r.text
