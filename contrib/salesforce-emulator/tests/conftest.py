import sys
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce

# Imported rather than listed in pytest_plugins, so this conftest also works when it is not the
# root conftest (a run from the repository root); the test directory is put on sys.path so the
# helper modules import under --import-mode=importlib too.
from mlc_salesforce_emulator import testing as emulator_testing

salesforce_emulator = emulator_testing.salesforce_emulator
salesforce_emulator_factory = emulator_testing.salesforce_emulator_factory

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from sfemu_helpers import ca_session, make_sf  # noqa: E402


@pytest.fixture
def sf_session(org) -> requests.Session:
    return ca_session(org)


@pytest.fixture
def sf(org, sf_session) -> Salesforce:
    return make_sf(org, sf_session)


@pytest.fixture
def api(org, sf_session):
    """A tiny REST helper: api("GET", "sobjects/Account/...") -> requests.Response."""
    token = org.access_token()
    base = org.instance_url + "/services/data/v63.0/"

    def call(method, path, **kw):
        headers = kw.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token}")
        return sf_session.request(method, base + path, headers=headers, timeout=30, **kw)

    call.token = token
    return call


CUSTOM_FIELDS = {
    "Account": [
        {"name": "SAP_CardCode__c", "type": "string", "length": 50, "externalId": True,
         "unique": True},
        {"name": "Credit_Limit__c", "type": "currency"},
    ],
    "Opportunity": [
        {"name": "SAP_Order_DocNum__c", "type": "string", "length": 20, "externalId": True},
    ],
    "Product2": [
        {"name": "SAP_ItemCode__c", "type": "string", "length": 50, "externalId": True,
         "unique": True},
    ],
}


@pytest.fixture(scope="session")
def stubs(tmp_path_factory):
    """Pub/Sub client stubs generated from the proto text alone: (pb2, pb2_grpc)."""
    from sfemu_pubsub_client import load_stubs

    return load_stubs(tmp_path_factory.mktemp("pubsub-stubs"))


@pytest.fixture(scope="session")
def org(salesforce_emulator):
    """The shared emulator with the custom fields the tests use."""
    salesforce_emulator.admin.seed({"custom_fields": CUSTOM_FIELDS})
    return salesforce_emulator


_counter = iter(range(1, 10**6))


@pytest.fixture
def uniq():
    """A fresh short tag so tests sharing the session emulator never collide."""
    return f"T{next(_counter):05d}"
