"""The official okta Python SDK (3.4.6), used exactly as its users use it, against idhub."""

import asyncio

import pytest
from okta.client import Client as OktaClient
from okta.models import CreateUserRequest, UserProfile, UserCredentialsWritable, PasswordCredential, AddGroupRequest, OktaUserGroupProfile, UpdateUserRequest
from okta.pagination import paginate_all

PW = "Str0ng-Passw0rd"


def run(coro):
    return asyncio.run(coro)


def profile(login, first="Sarah", last="Lee", **extra):
    return UserProfile(login=login, email=login, first_name=first, last_name=last, **extra)


async def create(client, login, password=None, activate=True, **kw):
    creds = UserCredentialsWritable(password=PasswordCredential(value=password)) if password else None
    body = CreateUserRequest(profile=profile(login, **kw), credentials=creds)
    user, resp, err = await client.create_user(body, activate=activate)
    assert err is None, err
    return user


def test_create_with_and_without_password(client, unique):
    async def go():
        u = await create(client, f"pw-{unique}@example.com", PW, activate=True)
        assert u.status == "ACTIVE"
        assert u.id.startswith("00u")
        s = await create(client, f"staged-{unique}@example.com", activate=False)
        assert s.status == "STAGED"
        p = await create(client, f"prov-{unique}@example.com", activate=True)
        assert p.status == "PROVISIONED"
    run(go())


def test_get_by_id_and_by_login(client, unique):
    async def go():
        u = await create(client, f"Get-{unique}@example.com", PW)
        by_id, _, err = await client.get_user(u.id)
        assert err is None and by_id.profile.login == f"Get-{unique}@example.com"
        by_login, _, err = await client.get_user(f"get-{unique}@example.com")
        assert err is None and by_login.id == u.id
        missing, _, err = await client.get_user(f"nobody-{unique}@example.com")
        assert missing is None and err is not None and err.error_code == "E0000007"
    run(go())


def test_partial_and_full_update(client, unique):
    async def go():
        u = await create(client, f"upd-{unique}@example.com", PW)
        partial = UpdateUserRequest(profile=UserProfile(title="Engineer"))
        got, _, err = await client.update_user(u.id, partial)
        assert err is None, err
        assert got.profile.title == "Engineer" and got.profile.first_name == "Sarah"
        full = UpdateUserRequest(profile=profile(f"upd-{unique}@example.com", first="Full", last="Replace"))
        got, _, err = await client.replace_user(u.id, full)
        assert err is None, err
        assert got.profile.first_name == "Full"
        assert got.profile.title is None, "PUT removes attributes it does not carry"
    run(go())


def test_every_lifecycle_call(client, unique):
    async def go():
        u = await create(client, f"life-{unique}@example.com", PW, activate=False)
        async def status():
            user, _, _ = await client.get_user(u.id)
            return user.status

        token, _, err = await client.activate_user(u.id, send_email=False)
        assert err is None, err
        assert token.activation_token
        assert await status() == "ACTIVE"
        _, _, err = await client.activate_user(u.id, send_email=False)
        assert err is not None and err.error_code == "E0000016"
        _, _, err = await client.suspend_user(u.id)
        assert err is None and await status() == "SUSPENDED"
        _, _, err = await client.unsuspend_user(u.id)
        assert err is None and await status() == "ACTIVE"
        _, _, err = await client.expire_password(u.id)
        assert err is None and await status() == "PASSWORD_EXPIRED"
        _, _, err = await client.reset_password(u.id, send_email=False)
        assert err is None and await status() == "RECOVERY"
        _, _, err = await client.reactivate_user(u.id, send_email=False)
        assert err is None and await status() == "PROVISIONED"
        _, _, err = await client.deactivate_user(u.id)
        assert err is None and await status() == "DEPROVISIONED"
        # The SDK returns a 2-tuple (response, error) when a body-less call fails.
        result = await client.unlock_user(u.id)
        err = result[-1]
        assert err is not None and err.error_code == "E0000001"
    run(go())


def test_paginate_all_over_several_pages(client, unique):
    async def go():
        for i in range(7):
            await create(client, f"page{i}-{unique}@example.com", activate=False, last=f"Pg{unique}")
        users = [u async for u in paginate_all(client.list_users, limit=2, search=f'profile.lastName eq "Pg{unique}"')]
        assert len(users) == 7
        assert len({u.id for u in users}) == 7
        everyone = [u async for u in paginate_all(client.list_users, limit=3)]
        assert len(everyone) >= 7
    run(go())


def test_filter_search_and_q(client, unique):
    async def go():
        a = await create(client, f"fs-a-{unique}@example.com", PW, last=f"Fs{unique}")
        await create(client, f"fs-b-{unique}@example.com", activate=False, last=f"Fs{unique}")
        staged, _, err = await client.list_users(search=f'profile.lastName eq "Fs{unique}" and status eq "STAGED"')
        assert err is None and len(staged) == 1
        by_login, _, err = await client.list_users(filter=f'profile.login eq "fs-a-{unique}@example.com"')
        assert err is None and [u.id for u in by_login] == [a.id]
        q, _, err = await client.list_users(q=f"fs-a-{unique}")
        assert err is None and [u.id for u in q] == [a.id]
        bad, _, err = await client.list_users(filter="status eq")
        assert err is not None and err.error_code == "E0000031"
    run(go())


def test_groups_and_members(client, unique):
    async def go():
        u = await create(client, f"member-{unique}@example.com", activate=False)
        g, _, err = await client.add_group(AddGroupRequest(profile=OktaUserGroupProfile(name=f"Contractors {unique}", description="All Contractors")))
        assert err is None, err
        assert g.type == "OKTA_GROUP"
        found, _, err = await client.list_groups(q=f"Contractors {unique}")
        assert err is None and [x.id for x in found] == [g.id]
        _, _, err = await client.assign_user_to_group(g.id, u.id)
        assert err is None, err
        members, _, err = await client.list_group_users(g.id)
        assert err is None and [m.id for m in members] == [u.id]
        _, _, err = await client.unassign_user_from_group(g.id, u.id)
        assert err is None
        members, _, _ = await client.list_group_users(g.id)
        assert members == []
        _, _, err = await client.delete_group(g.id)
        assert err is None
        gone, _, err = await client.get_group(g.id)
        assert gone is None and err.error_code == "E0000007"
    run(go())


def test_delete_deactivates_then_deletes(client, unique):
    async def go():
        u = await create(client, f"del-{unique}@example.com", PW)
        _, _, err = await client.delete_user(u.id)
        assert err is None
        again, _, _ = await client.get_user(u.id)
        assert again.status == "DEPROVISIONED"
        _, _, err = await client.delete_user(u.id)
        assert err is None
        gone, _, err = await client.get_user(u.id)
        assert gone is None and err.error_code == "E0000007"
    run(go())


def test_system_log(client, unique):
    async def go():
        u = await create(client, f"log-{unique}@example.com", activate=False)
        events, _, err = await client.list_log_events(filter=f'target.id eq "{u.id}"')
        assert err is None, err
        assert "user.lifecycle.create" in [e.event_type for e in events]
    run(go())


def test_error_objects(client, server, unique):
    async def go():
        await create(client, f"dup-{unique}@example.com", activate=False)
        body = CreateUserRequest(profile=profile(f"DUP-{unique}@example.com"))
        user, _, err = await client.create_user(body, activate=False)
        assert user is None and err.error_code == "E0000001"
        bad = OktaClient({"orgUrl": server["base"], "token": "00notarealtoken00notarealtoken00notarealto"})
        users, _, err = await bad.list_users()
        assert users is None and err.error_code == "E0000011"
    run(go())
