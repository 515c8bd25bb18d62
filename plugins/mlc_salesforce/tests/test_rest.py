"""REST calls: client header on writes, limit info on every response, budget, retries."""

import json
import threading

import pytest
import responses
from mlc_salesforce.auth import OrgToken, make_http_session
from mlc_salesforce.limits import ApiBudget, parse_limit_info
from mlc_salesforce.rest import SalesforceApiError, SalesforceRest, backoff_delay
from sfplugin_support import DATA, INTROSPECT_URL, TOKEN_URL, plugin_settings, token_body

from hub import RetriableError

BASE = "https://acme.my.salesforce.com"


def _rest(budget=0.8, clock=None, sleeps=None, **kw):
    http = make_http_session(None)
    token = OrgToken(BASE, "cid", "secret", http)
    b = ApiBudget(budget, clock=clock) if clock else ApiBudget(budget)
    sleeps = sleeps if sleeps is not None else []
    return SalesforceRest(token, http, "63.0", b, sleep=sleeps.append, rng=lambda: 0.5, **kw)


def _login(*tokens):
    for t in tokens or ("00D!A",):
        responses.post(TOKEN_URL, json=token_body(t))
    responses.post(INTROSPECT_URL, json={"active": False})


def _limit(used, limit=15000):
    return {"Sforce-Limit-Info": f"api-usage={used}/{limit}; api-bursts=1/750"}


@responses.activate
def test_every_call_names_the_hub_client_and_collections_take_200_a_call():
    _login()
    seen = []

    def answer(request):
        body = json.loads(request.body)
        seen.append((request.headers.get("Sforce-Call-Options"), len(body["records"])))
        results = [{"id": r["Id"], "success": True, "errors": []} for r in body["records"]]
        return 200, _limit(10), json.dumps(results)

    responses.add_callback(responses.PATCH, DATA + "composite/sobjects", callback=answer)
    rest = _rest()
    records = [{"attributes": {"type": "Opportunity"}, "Id": f"006{i:015d}"} for i in range(450)]
    results = rest.update_collection(records)
    assert [n for _, n in seen] == [200, 200, 50]
    assert {h for h, _ in seen} == {"client=ml-connector"}
    assert [r["id"] for r in results] == [r["Id"] for r in records]
    assert rest.calls == 3


@responses.activate
def test_limit_info_is_read_from_error_responses_too():
    _login()
    responses.get(
        DATA + "query/",
        status=400,
        headers=_limit(14000),
        json=[{"message": "unexpected token", "errorCode": "MALFORMED_QUERY"}],
    )
    rest = _rest()
    with pytest.raises(SalesforceApiError) as err:
        rest.request("GET", "query/", params={"q": "SELEC"})
    assert err.value.code == "MALFORMED_QUERY"
    assert rest.budget.usage.used == 14000 and rest.budget.usage.limit == 15000


@responses.activate
def test_budget_pauses_non_urgent_work_and_resumes_next_day():
    _login()
    clock_now = [86400 * 20000 + 3600.0]
    responses.get(DATA + "sobjects/", headers=_limit(12500), json={"sobjects": []})
    rest = _rest(clock=lambda: clock_now[0])
    rest.request("GET", "sobjects/")  # 12,500 of 15,000 = 83 % > 80 %
    assert rest.budget.exhausted()
    responses.get(DATA + "limits/", headers=_limit(12501), json={})
    with pytest.raises(RetriableError) as err:
        rest.request("GET", "sobjects/")
    assert "daily_api_budget" in str(err.value) and err.value.retry_after
    calls = rest.calls
    with pytest.raises(RetriableError):  # no probe again within a minute
        rest.request("GET", "sobjects/")
    assert rest.calls == calls
    rest.request("GET", "limits/", urgent=True)  # urgent work is not paused
    clock_now[0] += 86400  # a new UTC day: the count restarts
    assert not rest.budget.exhausted()
    rest.request("GET", "sobjects/")


@responses.activate
def test_budget_resumes_when_a_probe_shows_usage_dropped():
    _login()
    now = [1_800_000_000.0]
    responses.get(DATA + "sobjects/", headers=_limit(13000), json={"sobjects": []})
    rest = _rest(clock=lambda: now[0])
    rest.request("GET", "sobjects/")
    responses.get(DATA + "limits/", headers=_limit(100, 100000), json={})  # limit raised
    rest.request("GET", "sobjects/")  # probe shows 0.1 %: goes ahead


@pytest.mark.parametrize(
    "status, code",
    [(403, "REQUEST_LIMIT_EXCEEDED"), (503, "SERVER_UNAVAILABLE"), (400, "UNABLE_TO_LOCK_ROW")],
)
@responses.activate
def test_transient_errors_back_off_with_jitter_then_succeed(status, code):
    _login()
    url = DATA + "composite/sobjects"
    err = [{"message": "try later", "errorCode": code}]
    responses.patch(url, status=status, json=err)
    responses.patch(url, status=status, json=err)
    responses.patch(url, json=[{"id": "006A", "success": True, "errors": []}])
    sleeps = []
    rest = _rest(sleeps=sleeps)
    out = rest.update_collection([{"attributes": {"type": "Opportunity"}, "Id": "006A"}])
    assert out[0]["success"]
    assert sleeps == [0.5 * 0.5, 0.5 * 1.0]  # full jitter: rng() * min(cap, base * 2**n)
    assert rest.retries == 2


@responses.activate
def test_transient_errors_become_retriable_after_the_last_attempt():
    _login()
    responses.get(
        DATA + "limits/", status=503, json=[{"message": "busy", "errorCode": "SERVER_UNAVAILABLE"}]
    )
    rest = _rest(max_attempts=3)
    with pytest.raises(RetriableError) as err:
        rest.request("GET", "limits/")
    assert "SERVER_UNAVAILABLE" in str(err.value)
    assert len([c for c in responses.calls if "limits" in c.request.url]) == 3


def test_backoff_is_capped_and_jittered():
    assert backoff_delay(1, 0.5, 30, lambda: 1.0) == 0.5
    assert backoff_delay(10, 0.5, 30, lambda: 1.0) == 30
    assert backoff_delay(10, 0.5, 30, lambda: 0.0) == 0


def test_limit_info_parsing():
    assert parse_limit_info("api-usage=18/15000; api-bursts=1/750") == (18, 15000)
    assert parse_limit_info("api-usage=18/15000") == (18, 15000)
    assert parse_limit_info(None) is None


@responses.activate
def test_invalid_session_refreshes_once_for_all_callers_then_retries():
    _login("00D!A", "00D!B")
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]

    def answer(request):
        if request.headers["Authorization"] == "Bearer 00D!A":
            return 401, {}, json.dumps(expired)
        return 200, _limit(5), json.dumps({"DailyApiRequests": {"Max": 15000}})

    responses.add_callback(responses.GET, DATA + "limits/", callback=answer)
    rest = _rest()
    rest.token.current()
    gate = threading.Barrier(6)
    results = []

    def worker():
        gate.wait()
        results.append(rest.request("GET", "limits/")["DailyApiRequests"]["Max"])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [15000] * 6
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 2


@responses.activate
def test_session_still_rejected_after_refresh_is_not_retried_forever():
    _login("00D!A", "00D!B")
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    responses.get(DATA + "limits/", status=401, json=expired)
    rest = _rest()
    with pytest.raises(RetriableError):
        rest.request("GET", "limits/")
    assert len([c for c in responses.calls if "limits" in c.request.url]) == 2


# -- against the emulator --------------------------------------------------------------------


def test_token_revoked_mid_run_is_replaced_and_the_call_retried(salesforce_emulator):
    from mlc_salesforce import org

    conn = org.build(plugin_settings(salesforce_emulator))
    conn.rest.request("GET", "limits/")
    first = conn.token.current().access_token
    salesforce_emulator.admin.revoke_tokens(first)
    assert conn.rest.request("GET", "limits/")["DailyApiRequests"]["Max"] > 0
    assert conn.token.current().access_token != first
    assert conn.budget.usage is not None and conn.budget.usage.used > 0
