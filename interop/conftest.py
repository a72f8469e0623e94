"""Shared fixtures of the interop suites: a real idhub (SQLite or PostgreSQL) with one org
and an API token, and the official okta SDK configured for it as its users configure it."""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest
from okta.client import Client as OktaClient

BIN = os.environ.get("IDHUB_BIN", "target/debug/idhub")
BACKEND = os.environ.get("IDHUB_INTEROP_BACKEND", "sqlite")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_pg_url():
    """A new database on the throwaway PostgreSQL the test command started."""
    admin = os.environ["IDHUB_TEST_PG_URL"]
    name = "idhub_i_" + uuid.uuid4().hex[:12]
    base = admin.rsplit("/", 1)[0]
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def server():
    os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    tmp = tempfile.mkdtemp(prefix="idhub-interop-")
    if BACKEND == "postgres":
        db = ["--database-url", _fresh_pg_url()]
    else:
        db = ["--data-dir", tmp]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # idhub reads every IDHUB_* variable as configuration (unknown keys are errors), so
    # the harness's own variables stay out of the server's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDHUB_")}
    env["IDHUB_SECRET_KEY"] = "A" * 43 + "="
    created = subprocess.run([BIN, "org", "create", *db, "--name", "interop", "--base-url", base], capture_output=True, text=True, env=env)
    assert created.returncode == 0, created.stderr
    org = created.stdout.strip()
    assert org.startswith("00o"), org
    token = subprocess.run([BIN, "token", "create", *db, "--org", "interop", "--name", "okta-sdk"], check=True, capture_output=True, text=True, env=env).stdout.strip()
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}", *db], stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{base}/health/ready", timeout=2).status == 200:
                break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("idhub did not become ready; see " + log.name)
            time.sleep(0.1)
    yield {"base": base, "token": token}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def client(server):
    return OktaClient({"orgUrl": server["base"], "token": server["token"]})


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]
