"""The security issue's classes, from the outside: the official okta SDK (3.4.6) with
tokens of administrators of each role, plain HTTP for redirect targets and for the
egress rule. Run by `cargo xtask test` on SQLite and PostgreSQL.

Tokens of other administrators come from the operator's CLI (`idhub token create
--user LOGIN`), as an operator would make them for automation.
"""

import asyncio
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from okta.client import Client as OktaClient
from okta.models import (
    AssignRoleToUserRequest,
    CreateUserRequest,
    PasswordCredential,
    StandardRoleAssignmentSchema,
    UpdateUserRequest,
    UserCredentials,
    UserCredentialsWritable,
    UserProfile,
)

from conftest import idhub_serve, new_org

PW = "Str0ng-Passw0rd"


@pytest.fixture(scope="module")
def org(request):
    """One server and org; yields base URL, the super-admin token, and `token_for(login)`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with idhub_serve(request, [f"127.0.0.1:{port}"]) as (cli, _log):
        _, name, token = new_org(cli, base)
        yield {
            "base": base,
            "token": token,
            "token_for": lambda login: cli("token", "create", "--org", name, "--name", "automation", "--user", login),
        }


def run(base, token, body):
    async def main():
        async with OktaClient({"orgUrl": base, "token": token}) as client:
            return await body(client)

    return asyncio.run(main())


def err_of(result):
    return result[-1]


def code_of(err):
    """The Okta error code of an SDK error object."""
    return getattr(err, "error_code", None) or json.loads(getattr(err, "message", "{}") or "{}").get("errorCode")


async def create(client, login, role=None):
    body = CreateUserRequest(
        profile=UserProfile(login=login, email=login, first_name="Test", last_name="User"),
        credentials=UserCredentialsWritable(password=PasswordCredential(value=PW)),
    )
    user, _, err = await client.create_user(body, activate=True)
    assert err is None, err
    if role:
        _, _, err = await client.assign_role_to_user(user.id, AssignRoleToUserRequest(StandardRoleAssignmentSchema(type=role)))
        assert err is None, err
    return user


def http(base, method, path, token=None, body=None):
    """(status, headers, parsed JSON or text) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"SSWS {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(raw or b"null")
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def test_an_org_admin_cannot_take_over_a_super_admin(org):
    u = uuid.uuid4().hex[:8]

    async def setup(client):
        boss = await create(client, f"boss-{u}@example.com", "SUPER_ADMIN")
        await create(client, f"deputy-{u}@example.com", "ORG_ADMIN")
        plain = await create(client, f"plain-{u}@example.com")
        return boss, plain

    boss, plain = run(org["base"], org["token"], setup)
    deputy_token = org["token_for"](f"deputy-{u}@example.com")

    async def attack(client):
        change = UpdateUserRequest(credentials=UserCredentials(password=PasswordCredential(value="Taken-0ver-Passw0rd")))
        _, _, err = await client.update_user(boss.id, change)
        assert err is not None and code_of(err) == "E0000006", err
        assert code_of(err_of(await client.deactivate_user(boss.id))) == "E0000006"
        grant = AssignRoleToUserRequest(StandardRoleAssignmentSchema(type="SUPER_ADMIN"))
        assert code_of(err_of(await client.assign_role_to_user(plain.id, grant))) == "E0000006"
        # a plain user is the deputy's to manage
        assert err_of(await client.suspend_user(plain.id)) is None

    run(org["base"], deputy_token, attack)

    async def check(client):
        got, _, err = await client.get_user(boss.id)
        assert err is None and got.status.value == "ACTIVE", (err, got)

    run(org["base"], org["token"], check)


def test_tokens_act_with_their_owners_current_role(org):
    u = uuid.uuid4().hex[:8]
    owner = run(org["base"], org["token"], lambda c: create(c, f"owner-{u}@example.com", "ORG_ADMIN"))
    token = org["token_for"](f"owner-{u}@example.com")
    assert http(org["base"], "GET", "/api/v1/users?limit=1", token)[0] == 200

    async def demote(client):
        assert err_of(await client.unassign_role_from_user(owner.id, "ORG_ADMIN")) is None

    run(org["base"], org["token"], demote)
    status, _, body = http(org["base"], "GET", "/api/v1/users?limit=1", token)
    assert status == 403 and body["errorCode"] == "E0000006", body

    async def regrant_then_deactivate(client):
        grant = AssignRoleToUserRequest(StandardRoleAssignmentSchema(type="ORG_ADMIN"))
        assert err_of(await client.assign_role_to_user(owner.id, grant)) is None
        assert err_of(await client.deactivate_user(owner.id)) is None

    run(org["base"], org["token"], regrant_then_deactivate)
    status, _, body = http(org["base"], "GET", "/api/v1/users?limit=1", token)
    assert status == 401 and body["errorCode"] == "E0000011", body


def test_a_group_admin_acts_inside_the_groups_the_sdk_targeted(org):
    u = uuid.uuid4().hex[:8]

    async def setup(client):
        from okta.models import AddGroupRequest, OktaUserGroupProfile

        ga = await create(client, f"ga-{u}@example.com", "USER_ADMIN")
        inside = await create(client, f"in-{u}@example.com")
        outside = await create(client, f"out-{u}@example.com")
        group, _, err = await client.add_group(AddGroupRequest(profile=OktaUserGroupProfile(name=f"Sales {u}")))
        assert err is None, err
        assert err_of(await client.assign_user_to_group(group.id, inside.id)) is None
        assert err_of(await client.assign_group_target_to_user_role(ga.id, "USER_ADMIN", group.id)) is None
        targets, _, err = await client.list_group_targets_for_role(ga.id, "USER_ADMIN")
        assert err is None and [t.id for t in targets] == [group.id], (err, targets)
        return inside, outside

    inside, outside = run(org["base"], org["token"], setup)
    ga_token = org["token_for"](f"ga-{u}@example.com")

    async def act(client):
        assert err_of(await client.suspend_user(inside.id)) is None
        assert code_of(err_of(await client.suspend_user(outside.id))) == "E0000006"

    run(org["base"], ga_token, act)


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\n/evil.example", "\\\\evil.example", "//evil.example", "https:evil.example", "http://127.0.0.1@evil.example/", "javascript:alert(1)", "/x\x00y"],
)
def test_sign_in_redirect_targets_never_leave_the_org(org, target):
    status, headers, _ = http(org["base"], "GET", "/login?fromURI=" + urllib.parse.quote(target, safe=""))
    location = headers.get("Location") or ""
    assert "evil" not in location and "javascript" not in location, (status, location)
    assert status < 500, status


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1", "http://0x0a000001", "http://169.254.169.254", "http://192.168.1.1:8080", "http://[fd00::1]", "http://[::ffff:10.0.0.1]", "http://127.0.0.1:9/api?x=1"],
)
def test_the_hub_url_must_be_a_public_origin(org, url):
    status, _, app = http(org["base"], "POST", "/api/v1/apps", org["token"], {"name": "okta_org2org", "label": "Hub", "settings": {"app": {"baseUrl": "https://hub.example"}}})
    assert status == 200, app
    body = {"baseUrl": url, "profile": {"authScheme": "TOKEN", "token": "00secret"}}
    status, _, err = http(org["base"], "POST", f"/api/v1/apps/{app['id']}/connections/default", org["token"], body)
    assert status == 400 and err["errorCode"] == "E0000001", (status, err)
    assert "baseUrl" in json.dumps(err), err
