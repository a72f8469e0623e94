"""The official okta Python SDK (3.4.6), used exactly as its users use it, against idhub.

Each test builds the client as the SDK documents it, `OktaClient({"orgUrl", "token"})`
inside `async with`, and asserts what a user of the SDK sees: its models, its
`(result, response, error)` tuples and its error objects. Nothing in the SDK is patched.

Calls typed `Success` in the SDK (suspend, unlock, deactivate, …) return
`(result, response, None)` on success but a 2-tuple `(response, error)` on failure, so
those are read through `err_of`.
"""

import asyncio
import json
import urllib.error
import urllib.request

from okta.client import Client as OktaClient
from okta.models import (
    AddGroupRequest,
    CreateUserRequest,
    OktaUserGroupProfile,
    PasswordCredential,
    UpdateUserRequest,
    UserCredentials,
    UserCredentialsWritable,
    UserProfile,
)
from okta.pagination import PaginationHelper, paginate_all, paginate_pages

PW = "Str0ng-Passw0rd"
PW2 = "An0ther-Passw0rd"


# --------------------------------------------------------------------------- helpers


def run(config, body):
    """Runs `body(client)` with a client made as the SDK's README makes it."""

    async def main():
        async with OktaClient(config) as client:
            await body(client)

    asyncio.run(main())


def err_of(result):
    """The error of any SDK call: the last element of its tuple."""
    return result[-1]


def show(err):
    """An SDK error as text for assertion messages."""
    if err is None:
        return "no error"
    return f"{type(err).__name__}: {getattr(err, 'message', err)}"


def profile(login, first="Sarah", last="Lee", **extra):
    return UserProfile(login=login, email=login, first_name=first, last_name=last, **extra)


async def create(client, login, password=None, activate=True, **kw):
    creds = UserCredentialsWritable(password=PasswordCredential(value=password)) if password else None
    body = CreateUserRequest(profile=profile(login, **kw), credentials=creds)
    user, _, err = await client.create_user(body, activate=activate)
    assert err is None, f"create_user({login}): {show(err)}"
    return user


async def status_of(client, user_id):
    user, _, err = await client.get_user(user_id)
    assert err is None, f"get_user: {show(err)}"
    return user.status


def authn(base, login, password):
    """A primary sign-in through the Authn API (what a sign-in page calls; the SDK 3.x has
    no authn client). Returns (HTTP status, JSON body)."""
    req = urllib.request.Request(
        base + "/api/v1/authn",
        data=json.dumps({"username": login, "password": password}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# --------------------------------------------------------------------------- users


def test_create_with_and_without_password(config, unique):
    async def body(client):
        u = await create(client, f"pw-{unique}@example.com", PW, activate=True)
        assert u.status == "ACTIVE"
        assert u.id.startswith("00u")
        assert u.profile.login == f"pw-{unique}@example.com"
        assert u.profile.first_name == "Sarah" and u.profile.last_name == "Lee"
        assert u.created is not None and u.activated is not None
        s = await create(client, f"staged-{unique}@example.com", activate=False)
        assert s.status == "STAGED"
        assert s.activated is None
        p = await create(client, f"prov-{unique}@example.com", activate=True)
        assert p.status == "PROVISIONED", "activate=true without a password waits for activation"

    run(config, body)


def test_get_by_id_and_by_login(config, unique):
    async def body(client):
        u = await create(client, f"Get-{unique}@example.com", PW)
        by_id, _, err = await client.get_user(u.id)
        assert err is None, show(err)
        assert by_id.id == u.id and by_id.profile.login == f"Get-{unique}@example.com"
        by_login, _, err = await client.get_user(f"Get-{unique}@example.com")
        assert err is None, show(err)
        assert by_login.id == u.id
        any_case, _, err = await client.get_user(f"get-{unique}@EXAMPLE.com")
        assert err is None, f"logins are unique ignoring case, so lookup ignores case: {show(err)}"
        assert any_case.id == u.id

    run(config, body)


def test_partial_update_and_full_replace(config, unique):
    async def body(client):
        login = f"upd-{unique}@example.com"
        u = await create(client, login, PW, title="Engineer", department="R&D")

        partial = UpdateUserRequest(profile=UserProfile(title="Staff Engineer"))
        got, _, err = await client.update_user(u.id, partial)  # POST: partial
        assert err is None, show(err)
        assert got.profile.title == "Staff Engineer"
        assert got.profile.first_name == "Sarah" and got.profile.department == "R&D", "POST keeps what it does not carry"

        full = UpdateUserRequest(profile=profile(login, first="Full", last="Replace"))
        got, _, err = await client.replace_user(u.id, full)  # PUT: replace
        assert err is None, show(err)
        assert got.profile.first_name == "Full" and got.profile.last_name == "Replace"
        assert got.profile.title is None and got.profile.department is None, "PUT removes attributes it does not carry"

        again, _, err = await client.get_user(u.id)
        assert err is None, show(err)
        assert again.profile.title is None and again.profile.first_name == "Full"

    run(config, body)


def test_password_sync_by_partial_update(config, unique):
    """Org2Org's "Sync password": a partial update carrying credentials.password.value."""

    login = f"pwsync-{unique}@example.com"

    async def body(client):
        u = await create(client, login, PW)
        change = UpdateUserRequest(credentials=UserCredentials(password=PasswordCredential(value=PW2)))
        _, _, err = await client.update_user(u.id, change)
        assert err is None, show(err)

    run(config, body)
    status, answer = authn(config["orgUrl"], login, PW2)
    assert status == 200 and answer.get("status") == "SUCCESS", (status, answer)
    status, answer = authn(config["orgUrl"], login, PW)
    assert status == 401 and answer.get("errorCode") == "E0000004", (status, answer)


def test_activate_returns_a_token_and_refuses_twice(config, unique):
    async def body(client):
        u = await create(client, f"act-{unique}@example.com", activate=False)
        token, _, err = await client.activate_user(u.id, send_email=False)
        assert err is None, show(err)
        assert token.activation_token, "sendEmail=false returns the activation token"
        assert token.activation_url
        assert await status_of(client, u.id) == "PROVISIONED", "activated without a password: PROVISIONED"

        staged_pw = await create(client, f"actpw-{unique}@example.com", PW, activate=False)
        _, _, err = await client.activate_user(staged_pw.id, send_email=False)
        assert err is None, show(err)
        assert await status_of(client, staged_pw.id) == "ACTIVE", "activated with a password: ACTIVE"
        again = await client.activate_user(staged_pw.id, send_email=False)
        assert err_of(again) is not None and err_of(again).error_code == "E0000016", show(err_of(again))

    run(config, body)


def test_every_lifecycle_call(config, unique):
    async def body(client):
        u = await create(client, f"life-{unique}@example.com", PW, activate=False)
        assert u.status == "STAGED"

        _, _, err = await client.activate_user(u.id, send_email=False)
        assert err is None, show(err)
        assert await status_of(client, u.id) == "ACTIVE"

        r = await client.suspend_user(u.id)
        assert err_of(r) is None, show(err_of(r))
        assert await status_of(client, u.id) == "SUSPENDED"
        r = await client.suspend_user(u.id)
        assert err_of(r) is not None and err_of(r).error_code == "E0000001", "suspending a SUSPENDED user: " + show(err_of(r))

        r = await client.unsuspend_user(u.id)
        assert err_of(r) is None, show(err_of(r))
        assert await status_of(client, u.id) == "ACTIVE"

        expired, _, err = await client.expire_password(u.id)
        assert err is None, show(err)
        assert expired.status == "PASSWORD_EXPIRED"
        assert await status_of(client, u.id) == "PASSWORD_EXPIRED"

        reset, _, err = await client.reset_password(u.id, send_email=False)
        assert err is None, show(err)
        assert reset.reset_password_url, "sendEmail=false returns the reset URL"
        assert await status_of(client, u.id) == "RECOVERY"

        token, _, err = await client.reactivate_user(u.id, send_email=False)
        assert err is None, show(err)
        assert token.activation_token
        assert await status_of(client, u.id) == "PROVISIONED"

        r = await client.deactivate_user(u.id)
        assert err_of(r) is None, show(err_of(r))
        assert await status_of(client, u.id) == "DEPROVISIONED"

        r = await client.reactivate_user(u.id, send_email=False)
        assert err_of(r) is not None and err_of(r).error_code == "E0000038", "reactivating a DEPROVISIONED user: " + show(err_of(r))

        _, _, err = await client.activate_user(u.id, send_email=False)
        assert err is None, "DEPROVISIONED users can be activated again: " + show(err)

    run(config, body)


def test_unlock_after_lockout(config, unique):
    login = f"lock-{unique}@example.com"
    ids = {}

    async def make(client):
        ids["u"] = (await create(client, login, PW)).id

    run(config, make)
    # Failed sign-ins until the org's lockout policy locks the user (idhub's default: 10).
    answers = []
    for _ in range(12):
        status, answer = authn(config["orgUrl"], login, "Wr0ng-Passw0rd")
        answers.append((status, answer.get("status") or answer.get("errorCode")))
        if answer.get("status") == "LOCKED_OUT":
            break

    async def body(client):
        assert await status_of(client, ids["u"]) == "LOCKED_OUT", f"after failed sign-ins: {answers}"
        r = await client.unlock_user(ids["u"])
        assert err_of(r) is None, show(err_of(r))
        assert await status_of(client, ids["u"]) == "ACTIVE"

    run(config, body)
    status, answer = authn(config["orgUrl"], login, PW)
    assert status == 200 and answer.get("status") == "SUCCESS", (status, answer)


def test_delete_deactivates_then_deletes(config, unique):
    async def body(client):
        # Deactivate, then delete: gone.
        u = await create(client, f"del-{unique}@example.com", PW)
        r = await client.deactivate_user(u.id)
        assert err_of(r) is None, show(err_of(r))
        result, resp, err = await client.delete_user(u.id)
        assert err is None, show(err)
        assert resp.status_code == 204
        gone, _, err = await client.get_user(u.id)
        assert gone is None and err is not None and err.error_code == "E0000007", show(err)
        assert err.status == 404

        # DELETE on an active user only deactivates it.
        v = await create(client, f"del2-{unique}@example.com", PW)
        _, _, err = await client.delete_user(v.id)
        assert err is None, show(err)
        assert await status_of(client, v.id) == "DEPROVISIONED"
        _, _, err = await client.delete_user(v.id)
        assert err is None, show(err)
        gone, _, err = await client.get_user(v.id)
        assert gone is None and err.error_code == "E0000007", show(err)

    run(config, body)


# --------------------------------------------------------------------------- lists


def test_list_users_pages_of_two(config, unique):
    async def body(client):
        last = f"Pg{unique}"
        made = [await create(client, f"page{i}-{unique}@example.com", activate=bool(i % 2), last=last) for i in range(7)]
        mine = {u.id for u in made}

        # paginate_all, as the SDK's pagination module documents it.
        everyone = [u async for u in paginate_all(client.list_users, limit=2)]
        ids = [u.id for u in everyone]
        assert len(ids) == len(set(ids)), "no user appears twice across pages"
        assert mine <= set(ids), "every page was followed (the Link rel=next header reached the SDK)"

        # The same, page by page: every page holds at most 2, only the last says no more.
        pages = [(len(page), more) async for page, _, more in paginate_pages(client.list_users, limit=2, search=f'profile.lastName eq "{last}"')]
        assert [n for n, _ in pages] == [2, 2, 2, 1], pages
        assert [more for _, more in pages] == [True, True, True, False], pages

        # And by hand, reading the cursor from the Link header as PaginationHelper does.
        seen, after = [], None
        while True:
            users, resp, err = await client.list_users(limit=2, after=after, filter=f'profile.lastName eq "{last}"')
            assert err is None, show(err)
            assert len(users) <= 2
            seen += [u.id for u in users]
            after = PaginationHelper.extract_next_cursor(resp.headers)
            if not after:
                break
        assert sorted(seen) == sorted(mine)

    run(config, body)


def test_filter_search_and_q(config, unique):
    async def body(client):
        last = f"Fs{unique}"
        a = await create(client, f"fs-a-{unique}@example.com", PW, first=f"Quinn{unique}", last=last)
        b = await create(client, f"fs-b-{unique}@example.com", activate=False, last=last)
        c = await create(client, f"fs-c-{unique}@example.com", PW, last="Elsewhere")

        active, _, err = await client.list_users(filter='status eq "ACTIVE"')
        assert err is None, show(err)
        assert all(u.status == "ACTIVE" for u in active)
        assert {a.id, c.id} <= {u.id for u in active} and b.id not in {u.id for u in active}

        both, _, err = await client.list_users(filter=f'status eq "ACTIVE" and profile.lastName eq "{last}"')
        assert err is None, show(err)
        assert [u.id for u in both] == [a.id]

        by_login, _, err = await client.list_users(filter=f'profile.login eq "fs-a-{unique}@example.com"')
        assert err is None, show(err)
        assert [u.id for u in by_login] == [a.id]

        sw, _, err = await client.list_users(search=f'profile.lastName sw "Fs{unique[:6]}"')
        assert err is None, show(err)
        assert sorted(u.id for u in sw) == sorted([a.id, b.id])

        staged, _, err = await client.list_users(search=f'profile.lastName eq "{last}" and status eq "STAGED"')
        assert err is None, show(err)
        assert [u.id for u in staged] == [b.id]

        q, _, err = await client.list_users(q=f"Quinn{unique}")
        assert err is None, show(err)
        assert [u.id for u in q] == [a.id], "q matches the start of firstName"
        q, _, err = await client.list_users(q=f"fs-c-{unique}")
        assert err is None, show(err)
        assert [u.id for u in q] == [c.id], "q matches the start of email"

    run(config, body)


def test_search_values_ignore_case(config, unique):
    """Okta: property names in `search` are case-sensitive, string values are not."""

    async def body(client):
        u = await create(client, f"ci-{unique}@example.com", last=f"Casey{unique}", activate=False)
        found, _, err = await client.list_users(search=f'profile.lastName sw "casey{unique}"')
        assert err is None, show(err)
        assert [x.id for x in found] == [u.id]

    run(config, body)


def test_bad_filter_is_an_error_object(config):
    async def body(client):
        users, _, err = await client.list_users(filter="status eq")
        assert users is None and err is not None and err.error_code == "E0000031", show(err)
        assert err.status == 400

    run(config, body)


# --------------------------------------------------------------------------- groups


def test_groups_and_members(config, unique):
    async def body(client):
        u = await create(client, f"member-{unique}@example.com", activate=False)
        v = await create(client, f"member2-{unique}@example.com", PW)
        req = AddGroupRequest(profile=OktaUserGroupProfile(name=f"Contractors {unique}", description="All Contractors"))
        g, _, err = await client.add_group(req)
        assert err is None, show(err)
        assert g.id.startswith("00g") and g.type == "OKTA_GROUP"
        # GroupProfile is the SDK's anyOf wrapper; the parsed profile is its actual_instance.
        gp = g.profile.actual_instance
        assert isinstance(gp, OktaUserGroupProfile), type(gp)
        assert gp.name == f"Contractors {unique}" and gp.description == "All Contractors"

        found, _, err = await client.list_groups(q=f"Contractors {unique}")
        assert err is None, show(err)
        assert [x.id for x in found] == [g.id]
        prefix, _, err = await client.list_groups(q="Contractors")
        assert err is None, show(err)
        assert g.id in [x.id for x in prefix], "q is a prefix match on the name"

        for member in (u, v):
            r = await client.assign_user_to_group(g.id, member.id)
            assert err_of(r) is None, show(err_of(r))
        members, _, err = await client.list_group_users(g.id)
        assert err is None, show(err)
        assert sorted(m.id for m in members) == sorted([u.id, v.id])

        r = await client.unassign_user_from_group(g.id, u.id)
        assert err_of(r) is None, show(err_of(r))
        members, _, err = await client.list_group_users(g.id)
        assert err is None, show(err)
        assert [m.id for m in members] == [v.id]

        r = await client.delete_group(g.id)
        assert err_of(r) is None, show(err_of(r))
        gone, _, err = await client.get_group(g.id)
        assert gone is None and err is not None and err.error_code == "E0000007", show(err)

    run(config, body)


# --------------------------------------------------------------------------- logs


def test_system_log(config, unique):
    async def body(client):
        u = await create(client, f"log-{unique}@example.com", activate=False)
        events, _, err = await client.list_log_events(filter=f'target.id eq "{u.id}"')
        assert err is None, show(err)
        types = [e.event_type for e in events]
        assert "user.lifecycle.create" in types, types
        create_event = next(e for e in events if e.event_type == "user.lifecycle.create")
        assert create_event.outcome.result == "SUCCESS"
        assert any(t.id == u.id for t in create_event.target)
        assert create_event.published is not None and create_event.uuid

        by_type, _, err = await client.list_log_events(filter='eventType eq "user.lifecycle.create"', limit=1000)
        assert err is None, show(err)
        assert by_type and all(e.event_type == "user.lifecycle.create" for e in by_type)

    run(config, body)


# --------------------------------------------------------------------------- errors


def test_error_objects(config, unique):
    async def body(client):
        await create(client, f"dup-{unique}@example.com", activate=False)
        dup = CreateUserRequest(profile=profile(f"DUP-{unique}@example.com"))
        user, _, err = await client.create_user(dup, activate=False)
        assert user is None and err is not None, "a login differing only in case is a duplicate"
        assert err.error_code == "E0000001" and err.status == 400, show(err)
        assert err.error_summary and err.error_id

        missing, _, err = await client.get_user("00u0000000000000nope")
        assert missing is None and err is not None and err.error_code == "E0000007", show(err)
        assert err.status == 404
        missing, _, err = await client.get_user(f"nobody-{unique}@example.com")
        assert missing is None and err is not None and err.error_code == "E0000007", show(err)

    run(config, body)

    async def bad_token(client):
        users, _, err = await client.list_users()
        assert users is None and err is not None and err.error_code == "E0000011", show(err)
        assert err.status == 401

    run({**config, "token": "00notarealtoken00notarealtoken00notarealto"}, bad_token)
