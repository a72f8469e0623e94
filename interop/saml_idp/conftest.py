"""Fixtures of the inbound-SAML suite (the hub as SP of outside IdPs).

The hub tests need the hub's IdP API and ACS; a hub without them fails the suite.
"""

import shutil
import tempfile

import pytest

import peers


@pytest.fixture(scope="session")
def hub_idp_api(server):
    if not peers.idp_api_present(server):
        pytest.fail("the hub has no IdP API (GET /api/v1/idps answers 404)")
    return server


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="idhub-saml-idp-")
    yield d
    shutil.rmtree(d, ignore_errors=True)
