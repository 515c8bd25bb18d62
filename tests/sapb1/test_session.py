"""ServiceLayerSession and ServiceLayerClient against a scripted Service Layer (MockTransport)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hubtesting import wait_for
from mlc_sapb1.errors import AmbiguousWrite, LoginRejected, ServiceLayerError
from sapb1_fakes import FakeClock, MemoryState, sap_error

from hub import FatalError, RetriableError

JSON = {"content-type": "application/json"}


def ok(request):
    return httpx.Response(200, json={"value": [{"CardCode": "C1"}]})


def test_one_login_for_many_requests_and_cookies_sent_back(fake_sl):
    fake_sl.routes[("GET", "BusinessPartners")] = ok
    client = fake_sl.client()
    for _ in range(5):
        assert client.get("BusinessPartners")["value"][0]["CardCode"] == "C1"
    assert fake_sl.logins == 1
    reads = [r for r in fake_sl.requests if r.url.path.endswith("BusinessPartners")]
    cookie = reads[-1].headers["cookie"]
    assert "B1SESSION=" in cookie and "ROUTEID=.node1" in cookie
    assert "password" not in cookie.lower()


def test_idle_clock_renews_just_before_the_session_lapses(fake_sl):
    fake_sl.routes[("GET", "Items")] = ok
    clock = FakeClock()
    client = fake_sl.client(clock=clock)
    client.get("Items")
    for _ in range(10):  # a request every 25 minutes keeps a 30-minute session alive
        clock.advance(25 * 60)
        client.get("Items")
    assert fake_sl.logins == 1
    clock.advance(29 * 60 + 30)  # within the margin before the 30 minutes: renew first
    client.get("Items")
    assert fake_sl.logins == 2  # the server never refused a request: the idle clock renewed
    assert [r.url.path.rsplit("/", 1)[1] for r in fake_sl.requests[-2:]] == ["Login", "Items"]
    assert sum(1 for r in fake_sl.requests if r.url.path.endswith("Items")) == 12


@pytest.mark.parametrize("status", [401, 403])
def test_twenty_concurrent_refusals_cause_one_relogin(fake_sl, status):
    fake_sl.routes[("GET", "Orders")] = ok
    client = fake_sl.client()
    client.get("Orders")
    assert fake_sl.logins == 1
    refusals = []
    original = fake_sl.handler

    def handler(request):
        resp = original(request)
        if resp.status_code == 401:
            refusals.append(request)
            if status == 403:  # a worker recycle answers 403 with the code-301 body
                return httpx.Response(403, json=resp.json())
        return resp

    client.http._transport = httpx.MockTransport(handler)
    fake_sl.expire_all()
    fake_sl.login_gate = threading.Event()  # the re-login waits until all 20 were refused
    start = threading.Barrier(20)

    def call(_):
        start.wait()
        return client.get("Orders")

    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(call, i) for i in range(20)]
        wait_for(lambda: len(refusals) >= 20, timeout=10, what="20 refused requests")
        fake_sl.login_gate.set()
        results = [f.result(timeout=10) for f in futures]
    assert all(r["value"] for r in results)
    assert len(refusals) == 20
    assert fake_sl.logins == 2  # the first login and ONE re-login


def test_wrong_password_fails_fast_with_one_login_call(fake_sl):
    fake_sl.password = "something-else"
    client = fake_sl.client()
    start = threading.Barrier(20)

    def call(_):
        start.wait()
        try:
            client.get("Orders")
        except LoginRejected as exc:
            return exc
        return None

    with ThreadPoolExecutor(20) as pool:
        errors = list(pool.map(call, range(20)))
    assert all(isinstance(e, LoginRejected) for e in errors)
    assert isinstance(errors[0], FatalError)
    assert fake_sl.logins == 1
    assert "-304" in str(errors[0]) and "Fail to NONE-SSO login" in str(errors[0])
    assert "s3cret-pw" not in str(errors[0])


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(
            502, text="<html><body>Bad Gateway</body></html>", headers={"content-type": "text/html"}
        ),  # fmt: skip
        httpx.Response(503, json={"error": {"code": "-1", "message": "busy"}}),
        httpx.Response(504, text="Gateway Timeout"),
        httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"}),
        httpx.Response(
            200,
            content=b'{"value": [{"CardCode": "C1"',
            headers={"content-type": "application/json"},
        ),
    ],
)
def test_transient_answers_become_retriable(fake_sl, response):
    fake_sl.routes[("GET", "Orders")] = lambda request: response
    with pytest.raises(RetriableError):
        fake_sl.client().get("Orders")


def test_connection_errors_are_retriable_and_a_lost_write_is_ambiguous(fake_sl):
    client = fake_sl.client()

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    def drop(request):
        raise httpx.RemoteProtocolError("server closed the connection", request=request)

    fake_sl.routes[("GET", "Orders")] = refuse
    with pytest.raises(RetriableError) as err:
        client.get("Orders")
    assert not isinstance(err.value, AmbiguousWrite)
    fake_sl.routes[("POST", "Orders")] = drop
    with pytest.raises(AmbiguousWrite):
        client.post("Orders", {"CardCode": "C1"})
    assert sum(1 for r in fake_sl.requests if r.method == "POST" and "Orders" in r.url.path) == 1


def test_sap_errors_keep_code_and_message_in_both_shapes(fake_sl):
    client = fake_sl.client()
    fake_sl.routes[("POST", "Orders")] = lambda r: sap_error(400, "-10", "Invalid BP code")
    with pytest.raises(ServiceLayerError) as err:
        client.post("Orders", {})
    assert (err.value.status, err.value.code, err.value.message) == (400, "-10", "Invalid BP code")
    fake_sl.routes[("GET", "Items('X')")] = lambda r: httpx.Response(
        404, json={"error": {"code": -2028, "message": {"lang": "en-us", "value": "No match"}}}
    )
    with pytest.raises(ServiceLayerError) as err:
        client.get("Items('X')")
    assert (err.value.code, err.value.message) == ("-2028", "No match")


def test_paging_reapplies_the_query_and_takes_only_skip_from_the_link(fake_sl):
    seen = []

    def page(request):
        seen.append(request)
        skip = int(request.url.params.get("$skip", 0))
        rows = [{"CardCode": f"C{i}"} for i in range(skip, min(skip + 2, 5))]
        body = {"value": rows}
        if skip + 2 < 6:  # a full last page still links to an empty page
            body["@odata.nextLink"] = f"BusinessPartners?$skip={skip + 2}"  # filter dropped
        return httpx.Response(200, json=body)

    fake_sl.routes[("GET", "BusinessPartners")] = page
    client = fake_sl.client(settings={"page_size": 2})
    pages = list(client.pages("BusinessPartners", {"$filter": "CardType eq 'C'"}))
    assert [r["CardCode"] for p in pages for r in p] == [f"C{i}" for i in range(5)]
    assert len(seen) == 3
    for r in seen:
        assert r.url.params["$filter"] == "CardType eq 'C'"
        assert r.headers["Prefer"] == "odata.maxpagesize=2"
        assert "%20" in str(r.url) and "+" not in str(r.url.query)


def test_session_is_kept_and_reused_by_a_new_process(fake_sl):
    state = MemoryState()
    fake_sl.routes[("GET", "Items")] = ok
    first = fake_sl.client(state=state)
    first.get("Items")
    first.close()
    assert fake_sl.logins == 1
    assert "s3cret-pw" not in state.values["session"]
    second = fake_sl.client(state=state)
    second.get("Items")
    assert fake_sl.logins == 1 and second.session.logins == 0


def test_a_kept_session_past_its_idle_timeout_is_not_used(fake_sl):
    state, clock = MemoryState(), FakeClock()
    fake_sl.routes[("GET", "Items")] = ok
    fake_sl.client(state=state, clock=clock).get("Items")
    clock.advance(31 * 60)
    fake_sl.expire_all()
    before = len(fake_sl.requests)
    fake_sl.client(state=state, clock=clock).get("Items")
    assert fake_sl.logins == 2
    assert [r.url.path.rsplit("/", 1)[1] for r in fake_sl.requests[before:]] == ["Login", "Items"]


def test_the_client_trusts_only_the_configured_ca(tmp_path):
    import trustme
    from mlc_sapb1.client import ServiceLayerClient
    from sapb1_fakes import settings

    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    client = ServiceLayerClient(settings(ca_bundle=str(pem)))
    assert client.http._transport._pool._ssl_context.cert_store_stats()["x509_ca"] == 1
    assert client.http._trust_env is False


def test_requests_are_not_logged_at_info_and_nothing_secret_at_debug(fake_sl, caplog):
    import logging

    fake_sl.routes[("GET", "Orders")] = ok
    with caplog.at_level(logging.DEBUG):
        client = fake_sl.client()
        client.get("Orders", {"$filter": "CardCode eq 'C1'"})
    info = [r for r in caplog.records if r.levelno >= logging.INFO and r.name == "httpx"]
    assert info == []
    text = caplog.text
    assert "s3cret-pw" not in text
    assert client.session.ticket().session_id not in text
