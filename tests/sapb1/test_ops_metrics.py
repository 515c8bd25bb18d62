"""What the SAP B1 plugin reports for /metrics and /readyz (counted in the client and the
session, no network call in the hooks), and its subscription alert, once per state change."""

from __future__ import annotations

import json

import httpx
import pytest
from mlc_sapb1 import metrics
from mlc_sapb1 import plugin as sap_plugin
from mlc_sapb1.errors import LoginRejected
from mlc_sapb1.subscriptions import STATE_KEY, check_and_record
from sapb1_fakes import FakeClock, MemoryState

from hub.ops.metric_types import LABELS


def counts(tally) -> dict[tuple[str, ...], float]:
    return {tuple(m.labels.values()): m.value for m in tally.samples()}


def delta(before: dict, after: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [
        ("GET", "BusinessPartners('C20000')", "read"),
        ("GET", "Orders?$filter=DocEntry eq 5", "read"),
        ("POST", "Orders", "create"),
        ("PATCH", "BusinessPartners('C1')", "update"),
        ("DELETE", "EventSubscriptions(3)", "delete"),
        ("POST", "Orders(5)/Cancel", "action"),
        ("POST", "EventSubscriptions('7')/Resume", "action"),
        ("POST", "CompanyService_GetAdminInfo", "action"),
        ("POST", "$batch", "batch"),
        ("GET", "$metadata", "metadata"),
        ("POST", "Login", "login"),
        ("POST", "Logout", "logout"),
    ],
)
def test_an_operation_never_carries_a_key_or_a_url(method, path, op):
    assert metrics.operation(method, path) == op


def test_calls_logins_renewals_and_retries_are_counted(fake_sl):
    fake_sl.routes[("GET", "Items")] = lambda r: httpx.Response(200, json={"value": []})
    fake_sl.routes[("POST", "Orders")] = lambda r: httpx.Response(400, json={
        "error": {"code": "-5002", "message": "bad line"}})  # fmt: skip
    calls0, logins0 = counts(metrics.API_CALLS), counts(metrics.LOGINS)
    renew0, retry0 = counts(metrics.RENEWALS), counts(metrics.RETRIES)
    clock = FakeClock()
    client = fake_sl.client(clock=clock)
    for _ in range(3):
        client.get("Items")
    with pytest.raises(Exception, match="bad line"):
        client.post("Orders", {"CardCode": "C1"})
    fake_sl.expire_all()  # the server ends the session: 401, one re-login, the read again
    client.get("Items")
    clock.advance(31 * 60)  # idle past the timeout: the idle clock logs in first
    client.get("Items")

    assert delta(calls0, counts(metrics.API_CALLS)) == {
        ("sapb1", "read", "200"): 5,
        ("sapb1", "read", "401"): 1,
        ("sapb1", "create", "400"): 1,
        ("sapb1", "login", "200"): 3,
    }
    assert delta(logins0, counts(metrics.LOGINS)) == {("sapb1", "ok"): 3}
    assert delta(renew0, counts(metrics.RENEWALS)) == {
        ("sapb1", "rejected"): 1,
        ("sapb1", "idle"): 1,
    }
    assert delta(retry0, counts(metrics.RETRIES)) == {("sapb1", "session"): 1}

    figures = client.session.clock_figures(clock.now + 12)
    assert figures == {"age": 12.0, "idle": 12.0}
    for m in sap_plugin.hub_metrics({}, None):
        m.check()  # names, kinds and labels the core accepts
        assert set(m.labels) <= LABELS
        assert "Items" not in json.dumps(m.labels) and "C1" not in json.dumps(m.labels)


def test_readiness_follows_the_session_and_the_last_login(fake_sl):
    fake_sl.routes[("GET", "Items")] = lambda r: httpx.Response(200, json={"value": []})
    clock = FakeClock()
    client = fake_sl.client(clock=clock, login_cooldown=0)
    first = client.session.readiness(clock.now)
    assert (first.ok, first.detail) == (True, "no session held; the next request logs in")

    client.get("Items")
    ok = client.session.readiness(clock.now + 5)
    assert ok.ok and ok.detail == "held for 5s, idle 5s of 1800s"

    lapsed = client.session.readiness(clock.now + 1800)
    # an idle session is renewed by the next request: reported, still ready
    assert lapsed.ok and "idle 1800s, past its timeout of 1800s" in lapsed.detail

    fake_sl.password = "changed-by-an-admin"  # the hub's password no longer works
    fake_sl.expire_all()
    failed0 = counts(metrics.LOGINS).get(("sapb1", "failed"), 0)
    with pytest.raises(LoginRejected):
        client.get("Items")
    assert counts(metrics.LOGINS)[("sapb1", "failed")] == failed0 + 1
    bad = client.session.readiness(clock.now)
    assert not bad.ok and bad.detail.startswith("the last login failed: SAP B1 login rejected")
    assert "s3cret-pw" not in bad.detail and "changed-by-an-admin" not in bad.detail
    checks = sap_plugin.hub_readiness({}, None)
    assert any(not c.ok and c.detail == bad.detail for c in checks)

    fake_sl.password = "s3cret-pw"  # fixed: the next login works and the hub is ready again
    client.get("Items")
    assert client.session.readiness(clock.now).ok


class _Subscriptions:
    """A Service Layer whose one subscription's State a test sets."""

    def __init__(self, fake_sl, url: str) -> None:
        self.state = "Active"
        self.url = url
        fake_sl.routes[("GET", "EventSubscriptions")] = self.list

    def list(self, request):
        row = {"WebhookID": 7, "WebhookURL": self.url, "State": self.state}
        return httpx.Response(200, json={"value": [row]})


def test_a_stopped_subscription_alerts_once_per_state_change(fake_sl, hubenv):
    import hubtest_ops_plugin as ops_plugin
    from ops_env import write_ops_config

    hubenv.write_changes([])
    write_ops_config(hubenv)
    hub = hubenv.load_hub()  # its plugins (the ops test plugin among them) receive alerts
    ops_plugin.ALERTS.clear()
    try:
        _subscription_alerts(fake_sl, ops_plugin.ALERTS)
    finally:
        hub.close()


def _subscription_alerts(fake_sl, alerts) -> None:
    def sent():
        return [a for a in alerts if a.kind == "sapb1.subscription_expired"]

    url = "https://hub.example.com/webhooks/sapb1"
    sl = _Subscriptions(fake_sl, url)
    client, state = fake_sl.client(), MemoryState()

    check_and_record(client, url, state)
    assert sent() == []  # Active: nothing to say
    sl.state = "Inactive"
    for _ in range(3):
        check_and_record(client, url, state)
    (alert,) = sent()  # once, not at every check
    assert alert.subject == "SAP B1 webhook subscription 7 is Inactive"
    assert "hub sapb1 subscribe" in alert.text
    assert alert.details == {"subscription": "7", "state": "Inactive", "previous_state": "Active"}
    assert json.loads(state.get(STATE_KEY))["state"] == "Inactive"

    sl.state = "Exceptional"  # a different stopped state is a new change
    check_and_record(client, url, state)
    sl.state = "Active"
    check_and_record(client, url, state)
    sl.state = "Inactive"
    check_and_record(client, url, state)
    check_and_record(client, url, state)
    assert [a.details["state"] for a in sent()] == ["Inactive", "Exceptional", "Inactive"]


def test_a_stopped_subscription_is_one_alert_under_hub_run_and_still_a_status_warning(
    fake_sl, hubenv
):
    """`hub run` sends plugins' status warnings as `<plugin>.warning` alerts; the lapsed
    subscription is already `sapb1.subscription_expired`, so it must not go out twice."""
    import threading
    import types

    import hubtest_ops_plugin as ops_plugin
    from ops_env import write_ops_config

    from hub.ops.warnings_watch import WarningWatcher
    from hub.plugins import PluginHost, PluginInfo

    hubenv.write_changes([])
    write_ops_config(hubenv)
    hub = hubenv.load_hub()  # its plugins (the ops test plugin among them) receive alerts
    ops_plugin.ALERTS.clear()
    try:
        sap_host = PluginHost()
        sap_host.load(PluginInfo(name="sapb1", module="mlc_sapb1.plugin"))
        url = "https://hub.example.com/webhooks/sapb1"
        sl = _Subscriptions(fake_sl, url)
        client, state = fake_sl.client(), MemoryState()
        running = types.SimpleNamespace(
            host=sap_host, settings={}, plugin_state=lambda name: state, stopping=threading.Event()
        )
        watch = WarningWatcher(running)
        check_and_record(client, url, state)
        assert watch.check() == []
        sl.state = "Inactive"
        check_and_record(client, url, state)
        (new,) = watch.check()  # `hub status` shows it ...
        assert new[0] == "sapb1" and "webhook subscription 7 was Inactive" in new[1]
        # ... and one alert went out, of its own kind
        assert [a.kind for a in ops_plugin.ALERTS] == ["sapb1.subscription_expired"]
    finally:
        hub.close()
