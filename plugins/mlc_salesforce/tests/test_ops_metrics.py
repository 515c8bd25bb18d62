"""What the Salesforce plugin reports for /metrics and /readyz: counted in the REST client,
the token and the CDC reader; the hooks make no network call."""

import json

import pytest
import responses
from mlc_salesforce import metrics
from mlc_salesforce import plugin as sf_plugin
from mlc_salesforce.auth import CredentialsRejected, OrgToken, make_http_session
from mlc_salesforce.limits import ApiBudget
from mlc_salesforce.rest import SalesforceRest
from sfplugin_support import DATA, INTROSPECT_URL, TOKEN_URL, token_body

BASE = "https://acme.my.salesforce.com"
SECRET = "Kq7-client-secret-never-shown"
LIMIT = {"Sforce-Limit-Info": "api-usage=120/15000; api-bursts=1/750"}
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture(autouse=True)
def _only_this_tests_connections(monkeypatch):
    """The figures of this test's token and budget only: connections other tests of the same
    worker left alive (the plugin keeps one per org for the process) would be reported too."""
    import weakref

    monkeypatch.setattr(metrics, "_tokens", weakref.WeakSet())
    monkeypatch.setattr(metrics, "_budgets", weakref.WeakSet())


def counts(tally) -> dict:
    return {tuple(m.labels.values()): m.value for m in tally.samples()}


def delta(before: dict, after: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def _rest(budget=0.8):
    http = make_http_session(None)
    token = OrgToken(BASE, "cid", SECRET, http)
    return SalesforceRest(token, http, "63.0", ApiBudget(budget), sleep=lambda s: None,
                          rng=lambda: 0.5)  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [
        ("GET", "/services/data/v63.0/query/?q=SELECT+Id+FROM+Account", "query"),
        ("GET", "/services/data/v63.0/query/01gD0000002HU6KIAW-2000", "query"),
        ("GET", "/services/data/v63.0/queryAll/", "query"),
        ("GET", "/services/data/v63.0/sobjects/", "describe"),
        ("GET", "/services/data/v63.0/sobjects/Account/describe", "describe"),
        ("GET", "/services/data/v63.0/sobjects/Account/001000000000001AAA", "read"),
        ("POST", "/services/data/v63.0/sobjects/Account/", "create"),
        ("PATCH", "/services/data/v63.0/sobjects/Account/001000000000001AAA", "update"),
        ("PATCH", "/services/data/v63.0/sobjects/Account/SAP_CardCode__c/C20000", "upsert"),
        ("DELETE", "/services/data/v63.0/sobjects/Account/001000000000001AAA", "delete"),
        ("PATCH", "/services/data/v63.0/composite/sobjects", "update"),
        ("POST", "/services/data/v63.0/composite/sobjects", "create"),
        ("PATCH", "/services/data/v63.0/composite/sobjects/Product2/ProductCode__c", "upsert"),
        ("POST", "/services/data/v63.0/composite", "composite"),
        ("GET", "/services/data/v63.0/limits/", "limits"),
        ("GET", "/services/data/", "other"),
    ],
)
def test_an_operation_never_carries_an_id_or_a_url(method, path, op):
    assert metrics.operation(method, path) == op


@responses.activate
def test_calls_token_requests_renewals_and_retries_are_counted():
    calls0, logins0 = counts(metrics.API_CALLS), counts(metrics.LOGINS)
    renew0, retry0 = counts(metrics.RENEWALS), counts(metrics.RETRIES)
    responses.post(TOKEN_URL, json=token_body("00D!T1"))
    responses.post(TOKEN_URL, json=token_body("00D!T2"))
    responses.post(INTROSPECT_URL, json={"active": False})
    q = DATA + "query/"
    responses.get(q, status=503, headers=LIMIT, json=[{"errorCode": "SERVER_UNAVAILABLE",
                                                       "message": "busy"}])  # fmt: skip
    responses.get(q, headers=LIMIT, json={"done": True, "records": []})
    responses.get(q, status=401, json=EXPIRED)  # the token was revoked meanwhile
    responses.get(q, headers=LIMIT, json={"done": True, "records": []})
    rest = _rest()
    list(rest.query_records("SELECT Id FROM Account"))  # 503, then 200
    list(rest.query_records("SELECT Id FROM Account"))  # 401, new token, 200

    assert delta(calls0, counts(metrics.API_CALLS)) == {
        ("salesforce", "query", "200"): 2,
        ("salesforce", "query", "503"): 1,
        ("salesforce", "query", "401"): 1,
    }
    assert delta(logins0, counts(metrics.LOGINS)) == {("salesforce", "ok"): 2}
    assert delta(renew0, counts(metrics.RENEWALS)) == {("salesforce", "rejected"): 1}
    assert delta(retry0, counts(metrics.RETRIES)) == {
        ("salesforce", "transient"): 1,
        ("salesforce", "session"): 1,
    }
    samples = {m.name: m for m in sf_plugin.hub_metrics({}, None)}
    assert samples["mlc_api_usage"].value == 120 and samples["mlc_api_limit"].value == 15000
    assert samples["mlc_api_budget_ratio"].value == 0.8 and samples["mlc_api_paused"].value == 0
    assert 0 <= samples["mlc_session_age_seconds"].value < 60
    for m in sf_plugin.hub_metrics({}, None):
        m.check()  # the core's rules: bounded label names, names and kinds
        assert "SELECT" not in json.dumps(m.labels) and "00D!" not in json.dumps(m.labels)
    assert rest  # keeps the token and budget reported until here


@responses.activate
def test_readiness_follows_the_last_token_request_and_the_budget():
    refused = {"error": "invalid_client", "error_description": "invalid client credentials"}
    responses.post(TOKEN_URL, status=400, json=refused)
    rest = _rest()
    # connected, no call yet (a reference-data sink opens so): the next call gets a token
    fresh = rest.token.readiness(0)
    assert fresh.ok and fresh.detail == "no token held yet; the next call requests one"
    assert any(c.ok and c.detail == fresh.detail for c in sf_plugin.hub_readiness({}, None))
    assert not any(c.detail == fresh.detail and not c.ok
                   for c in sf_plugin.hub_readiness({}, None))  # fmt: skip
    with pytest.raises(CredentialsRejected):
        rest.token.current()
    bad = rest.token.readiness(0)
    assert not bad.ok and "invalid_client: invalid client credentials" in bad.detail
    assert SECRET not in bad.detail
    assert any(c.detail == bad.detail for c in sf_plugin.hub_readiness({}, None))

    responses.replace(responses.POST, TOKEN_URL, json=token_body("00D!OK"))
    responses.post(INTROSPECT_URL, json={"active": True, "exp": 4_000_000_000})
    token = rest.token.current()
    ok = rest.token.readiness(token.issued_at + 60)
    assert ok.ok and ok.detail.startswith("held, valid ")
    late = rest.token.readiness(4_000_000_001)  # expired: replaced at the next call
    assert late.ok and late.detail == "expired; the next call requests a new one"

    rest.budget.observe("api-usage=12000/15000")  # 80 %: the pause starts
    (paused,) = [c for c in sf_plugin.hub_readiness({}, None)
                 if c.name == "api_budget" and not c.ok]  # fmt: skip
    assert paused.detail.startswith("daily API budget reached: 12000/15000 calls today")
    rest.budget.observe("api-usage=12000/20000")  # the org's limit was raised
    assert rest.budget.readiness().ok


def test_cdc_lag_is_receive_time_minus_the_newest_commit_and_zero_after_a_keepalive():
    channel = "/data/TestLagChangeEvent"
    metrics.cdc_delivered(channel, 1_700_000_000_000, now=1_700_000_002.5)

    def lag():
        return [m.value for m in metrics.samples() if m.labels.get("channel") == channel]

    assert lag() == [2.5]
    metrics.cdc_delivered(channel, 1_700_000_010_000, now=1_700_000_009.0)  # clocks apart
    assert lag() == [0.0]  # never negative
    metrics.cdc_delivered(channel, 1_700_000_010_000, now=1_700_000_070.0)
    assert lag() == [60.0]
    metrics.cdc_caught_up(channel)
    assert lag() == [0.0]
