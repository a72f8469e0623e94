"""Shared fixtures of the interop suites: a real idhub server (SQLite or PostgreSQL, chosen
by IDHUB_INTEROP_BACKEND) with one org and an API token made by the idhub CLI, and the
configuration an okta SDK user would write for it.

Environment (set by `cargo xtask test`):
  IDHUB_BIN               the idhub binary (default target/debug/idhub)
  IDHUB_INTEROP_BACKEND   sqlite (default) | postgres
  IDHUB_TEST_PG_URL       a PostgreSQL superuser URL; each session gets a fresh database on it
  IDHUB_TEST_PG_BIN       optional: the directory holding psql
"""

import contextlib
import ctypes
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

BIN = os.path.abspath(os.environ.get("IDHUB_BIN", "target/debug/idhub"))
BACKEND = os.environ.get("IDHUB_INTEROP_BACKEND", "sqlite")

# orgUrl must be https for the SDK unless this is set; loopback test servers speak http.
os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")

# The server's log, so a failing test's report can show what the server did meanwhile.
_SERVER_LOG = {"path": None}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psql():
    candidates = []
    if os.environ.get("IDHUB_TEST_PG_BIN"):
        candidates.append(os.path.join(os.environ["IDHUB_TEST_PG_BIN"], "psql"))
    candidates.append(shutil.which("psql"))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    pytest.fail("psql not found (PATH, IDHUB_TEST_PG_BIN or /usr/lib/postgresql/*/bin)")


def _pg(admin_url, sql):
    r = subprocess.run([_psql(), admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], capture_output=True, text=True)
    assert r.returncode == 0, f"psql {sql!r}: {r.stderr}"


def _die_with_parent():
    """In the server's child process: SIGTERM it if pytest dies (Linux), so a killed run
    leaves no idhub behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _cli(env, *args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, f"idhub {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout.strip()


def _log_tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def idhub_serve(request, listens):
    """Run `idhub serve` on the given addresses with a fresh database (SQLite or PostgreSQL,
    by IDHUB_INTEROP_BACKEND); yields `cli(*args)`, which runs the idhub CLI on the same
    database (org and token creation, as an operator would), and the server log's path."""
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"no idhub binary at {BIN} (cargo build -p idhub, or set IDHUB_BIN)")
    tmp = tempfile.mkdtemp(prefix="idhub-interop-")
    pg_admin = pg_db = None
    if BACKEND == "postgres":
        pg_admin = os.environ.get("IDHUB_TEST_PG_URL")
        if not pg_admin:
            pytest.fail("IDHUB_INTEROP_BACKEND=postgres needs IDHUB_TEST_PG_URL (cargo xtask test sets it)")
        pg_db = "idhub_i_" + uuid.uuid4().hex[:12]
        _pg(pg_admin, f"CREATE DATABASE {pg_db}")
        db = ["--database-url", pg_admin.rsplit("/", 1)[0] + "/" + pg_db]
    elif BACKEND == "sqlite":
        db = ["--data-dir", tmp]
    else:
        pytest.fail(f"IDHUB_INTEROP_BACKEND must be sqlite or postgres, not {BACKEND!r}")

    # idhub reads every IDHUB_* variable as configuration (unknown keys are errors), so the
    # harness's own variables stay out of its environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDHUB_")}
    env["IDHUB_SECRET_KEY"] = "A" * 43 + "="
    # every peer (hubs, relays) is on loopback, which the egress rule refuses unless allowed
    env["IDHUB_EGRESS__ALLOW"] = "127.0.0.0/8"
    log_path = os.path.join(tmp, "server.log")
    _SERVER_LOG["path"] = log_path
    log = open(log_path, "w")
    listen_args = [a for addr in listens for a in ("--listen", addr)]
    proc = subprocess.Popen(
        [BIN, "serve", *listen_args, *db],
        stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{listens[0]}/health/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if proc.poll() is not None:
                pytest.fail(f"idhub serve exited with {proc.returncode} before it was ready:\n{_log_tail(log_path)}")
            if time.time() > deadline:
                pytest.fail(f"idhub did not answer 200 on /health/ready within 60 s:\n{_log_tail(log_path)}")
            time.sleep(0.1)
        yield (lambda *args: _cli(env, *args[:2], *db, *args[2:])), log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if pg_db:
            try:
                _pg(pg_admin, f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            except AssertionError as e:
                print(f"(could not drop {pg_db}: {e})")
        if request.session.testsfailed:
            print(f"\nidhub server log kept: {log_path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def new_org(cli, base):
    """An org at `base` and an API token of it, made with the CLI; returns (org id, name, token)."""
    name = "interop-" + uuid.uuid4().hex[:8]
    org = cli("org", "create", "--name", name, "--base-url", base)
    assert org.startswith("00o"), f"org create printed {org!r}, not an org id"
    token = cli("token", "create", "--org", name, "--name", "interop")
    assert token and len(token.split()) == 1, f"token create printed {token!r}, not just a token"
    return org, name, token


@pytest.fixture(scope="session")
def server(request):
    """A running idhub with a fresh database and one org; yields base URL, token, org id."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with idhub_serve(request, [f"127.0.0.1:{port}"]) as (cli, log_path):
        org, name, token = new_org(cli, base)
        yield {"base": base, "token": token, "org": org, "org_name": name, "log": log_path}


@pytest.fixture
def config(server):
    """The SDK configuration, exactly as its docs show it."""
    return {"orgUrl": server["base"], "token": server["token"]}


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the server's log lines written during a failed test to its report."""
    outcome = yield
    rep = outcome.get_result()
    path = _SERVER_LOG["path"]
    if not path or not os.path.exists(path):
        return
    if rep.when == "setup":
        item.stash[_LOG_START] = os.path.getsize(path)
    elif rep.when == "call" and rep.failed:
        start = item.stash.get(_LOG_START, 0)
        with open(path, errors="replace") as f:
            f.seek(start)
            text = f.read()
        if len(text) > 20000:
            text = "…\n" + text[-20000:]
        rep.sections.append(("idhub server log during this test", text or "(nothing logged)"))


_LOG_START = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def serve_orgs():
    """For suites that need their own server layout (the browser suite's two orgs on two
    loopback addresses): `idhub_serve` and `new_org`."""
    return idhub_serve, new_org
