"""Change events as a real org publishes them: changeOrigin, bitmaps, cascades, User events."""

import pytest

from sfemu_helpers import ca_session
from sfemu_pubsub_client import PubSubClient

ACCOUNT_TOPIC = "/data/AccountChangeEvent"


@pytest.fixture
def pubsub(stubs, org):
    client = PubSubClient(*stubs, org)
    yield client
    client.close()


def _rest(emu, token, call_options=None):
    session = ca_session(emu)
    base = emu.instance_url + "/services/data/v63.0/"
    headers = {"Authorization": f"Bearer {token}"}
    if call_options is not None:
        headers["Sforce-Call-Options"] = call_options

    def call(method, path, **kw):
        return session.request(method, base + path, headers=headers, timeout=30, **kw)

    return call


def test_change_origin_names_the_client_only_when_the_writer_sent_one(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    try:
        sub.next_response()
        _rest(org, pubsub.token)("POST", "sobjects/Account", json={"Name": f"O1 {uniq}"})
        _rest(org, pubsub.token, "client=hub-sync")(
            "POST", "sobjects/Account", json={"Name": f"O2 {uniq}"})
        _rest(org, pubsub.token, "defaultNamespace=ns, client=other")(
            "POST", "composite/sobjects",
            json={"records": [{"attributes": {"type": "Account"}, "Name": f"O3 {uniq}"}]})
        origins = [pubsub.decode(e)["ChangeEventHeader"]["changeOrigin"] for e in sub.events(3)]
        assert origins == ["com/salesforce/api/rest/63.0",
                           "com/salesforce/api/rest/63.0;client=hub-sync",
                           "com/salesforce/api/rest/63.0;client=other"]
    finally:
        sub.close()
