"""A corpus of bad requests: each gets a documented error; nothing crashes or corrupts state."""

import json
import random

import pytest

from mlc_salesforce_emulator.testing import stop_emulator

from sfemu_helpers import ca_session

V = "/services/data/v63.0/"
GOOD = {"Name": "ok"}
REST_CORPUS = [
    ("POST", "sobjects/Account", b"{", 400),
    ("POST", "sobjects/Account", b"", 400),
    ("POST", "sobjects/Account", b"\xff\xfe\x00", 400),
    ("POST", "sobjects/Account", b"null", 400),
    ("POST", "sobjects/Account", b"[" * 100_000, 400),
    ("POST", "composite/sobjects", b'{"records": ' + b"[" * 100_000, 400),
    ("POST", "sobjects/Account", b'"string"', 400),
    ("POST", "sobjects/Account", json.dumps({"Name": {"nested": 1}}).encode(), 400),
    ("POST", "sobjects/Account", json.dumps({"Name": ["x"]}).encode(), 400),
    ("POST", "sobjects/Account", json.dumps({"Name": "x" * 100_000}).encode(), 400),
    ("POST", "sobjects/Account", json.dumps({"Name": "ok", "Id": "001"}).encode(), 400),
    ("POST", "sobjects/Account", json.dumps({"Name": "ok", "OwnerId": "bad"}).encode(), 400),
    ("POST", "sobjects/Account", json.dumps({"Name": "ok",
                                             "OwnerId": "001RO0000000001YAA"}).encode(), 400),
    ("POST", "sobjects/Opportunity", json.dumps({"Name": "o", "StageName": "s",
                                                 "CloseDate": "not-a-date"}).encode(), 400),
    ("POST", "sobjects/Opportunity", json.dumps({"Name": "o", "StageName": "s",
                                                 "CloseDate": "2026-01-01",
                                                 "Amount": "lots"}).encode(), 400),
    ("POST", "sobjects/User", json.dumps(GOOD).encode(), 404),
    ("POST", "sobjects/Nope", json.dumps(GOOD).encode(), 404),
    ("POST", "sobjects/../../etc", json.dumps(GOOD).encode(), 404),
    ("GET", "sobjects/Account/%00%01", None, 404),
    ("GET", "sobjects/Account/001RO0000000001YAZ", None, 404),
    ("GET", "sobjects/Account/001RO0000000001YAA?fields=Nope", None, 400),
    ("PATCH", "sobjects/Account/not-an-id", json.dumps(GOOD).encode(), 400),
    ("DELETE", "sobjects/Account/001RO0000zzzzzzAAA", None, 400),
    ("DELETE", "sobjects/Account/001RO000006laZDYAY", None, 404),
    ("PATCH", "sobjects/Account/Nope__c/x", json.dumps(GOOD).encode(), 404),
    ("GET", "query", None, 400),
    ("GET", "query?q=", None, 400),
    ("GET", "query?q=SELECT%20Id%20FROM%20Account%20WHERE%20Name%20%3D%20%27", None, 400),
    ("GET", "query?q=" + "(" * 500, None, 400),
    ("GET", "query?q=SELECT+Id+FROM+Account+WHERE+" + "NOT+" * 3000 + "Name+=+'x'", None, 400),
    ("GET", "query?q=SELECT+Id+FROM+Account+WHERE+" + "NOT+" * 600 + "Name+=+'x'", None, None),
    ("GET", "query/01gNOPE-2000", None, 400),
    ("GET", "query/garbage", None, 400),
    ("POST", "composite/sobjects", b"[]", 400),
    ("POST", "composite/sobjects", json.dumps({"records": None}).encode(), 400),
    ("POST", "composite/sobjects", json.dumps({"records": [], "allOrNone": "yes"}).encode(),
     400),
    ("POST", "composite/sobjects", json.dumps(
        {"records": [{"attributes": {"type": "Account"}, "Name": "x"}] * 201}).encode(), 400),
    ("PATCH", "composite/sobjects/Nope/Id", json.dumps({"records": []}).encode(), 404),
    ("DELETE", "composite/sobjects", None, 400),
    ("PUT", "sobjects/Account", json.dumps(GOOD).encode(), 405),
    ("GET", "no/such/resource", None, 404),
]


def _fuzz_soql(n: int) -> list[str]:
    words = ["SELECT", "Id", "Name", ",", "FROM", "Account", "WHERE", "=", "'x'", "(", ")",
             "AND", "OR", "NOT", "IN", "LIKE", "null", "ORDER", "BY", "LIMIT", "5", "Account.Name",
             "2024-01-01T00:00:00Z", "TODAY", "'\\'", "\\", "%", "'", "LAST_N_DAYS:2", "COUNT()"]
    rng = random.Random(7)
    return [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 14))) for _ in range(n)]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_salesforce_emulator.testing import run_salesforce_emulator

    directory = tmp_path_factory.mktemp("sf-corpus")
    with run_salesforce_emulator(directory) as handle:
        yield handle


def test_rest_corpus(emu):
    session = ca_session(emu)
    headers = {"Authorization": f"Bearer {emu.access_token()}",
               "Content-Type": "application/json"}
    base = emu.instance_url + V
    session.post(base + "sobjects/Account", json={"Name": "keep me"}, headers=headers)
    for method, path, body, status in REST_CORPUS:
        resp = session.request(method, base + path, data=body, headers=headers, timeout=30)
        if status is None:  # either answer is fine, as long as it is not a server error
            assert resp.status_code in (200, 400), (path[:80], resp.text[:300])
            continue
        assert resp.status_code == status, (method, path, resp.status_code, resp.text[:300])
        payload = resp.json()
        assert isinstance(payload, list) and payload[0]["errorCode"], (method, path, payload)
        assert "Traceback" not in resp.text
    for soql in _fuzz_soql(300):
        resp = session.get(base + "query", params={"q": soql}, headers=headers, timeout=30)
        assert resp.status_code in (200, 400), (soql, resp.text[:300])
        if resp.status_code == 400:
            assert resp.json()[0]["errorCode"] in ("MALFORMED_QUERY", "INVALID_FIELD",
                                                   "INVALID_TYPE"), (soql, resp.text)
    oauth = emu.instance_url + "/services/oauth2/token"
    for body, ctype in ((b"\xff\xfe", "application/x-www-form-urlencoded"),
                        (b"{}", "application/json"), (b"grant_type=client_credentials", None)):
        resp = session.post(oauth, data=body, headers={"Content-Type": ctype} if ctype else {})
        assert resp.status_code == 400 and "error" in resp.json()
    admin_bad = [("/emulator/seed", {"records": {"Nope": [{}]}}),
                 ("/emulator/seed", {"records": {"Account": [{"Phone": "1"}]}}),
                 ("/emulator/seed", {"wat": 1}), ("/emulator/clock", {"now": "yesterday"}),
                 ("/emulator/faults", {"path": "(", "status": 500}),
                 ("/emulator/generate", {"accounts": -1})]
    for path, body in admin_bad:
        with pytest.raises(RuntimeError, match=r": 400 "):
            emu.admin.post(path, body)
    count = session.get(base + "query", params={"q": "SELECT COUNT() FROM Account"},
                        headers=headers).json()
    assert count["totalSize"] == 1  # no partial writes from any failed request

    # in the same test (a test of its own could run on another worker, without the corpus):
    # the emulator never crashed, and the state it saves after the corpus loads
    assert emu.process.poll() is None
    assert stop_emulator(emu.process) == 0
    state = json.loads((emu.data_dir / "state.json").read_text())
    accounts = [r for r in state["store"]["tables"]["Account"].values() if not r["IsDeleted"]]
    assert [a["Name"] for a in accounts] == ["keep me"]
