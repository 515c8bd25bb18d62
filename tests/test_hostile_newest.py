"""Hostile operator input to the newest pieces: PostgreSQL store URLs with libpq options and
awkward passwords, plugins' status warnings, SAP B1 readiness, the Salesforce alert day."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hubtesting import HubEnv

from hub import StoreError, hookimpl
from hub.store.database import connect, describe_url


# -- PostgreSQL store URLs ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://hub:pa/ss-word-1@db/hub", "ss-word-1"),  # unencoded '/' ends the address
        ("postgresql://hub:pa?ss-word-2@db/hub", "ss-word-2"),
        ("postgresql://hub:pa#ss-word-3@db/hub", "ss-word-3"),
        ("postgresql://hub:1234/ss-word-4@db/hub", "ss-word-4"),  # a "port", then a "path"
        ("postgresql://hub@db/hub?sslpassword=key-pass-5", "key-pass-5"),
        ("postgresql://hub@db/hub?PASSWORD=upper-pass-6", "upper-pass-6"),
        ("postgresql://hub@db/hub?password=amp-pass&tail-secret-7", "tail-secret-7"),
    ],
)
def test_a_store_url_is_shown_without_any_part_of_its_secrets(url, secret):
    shown = describe_url(url)
    assert secret not in shown, shown
    assert shown.startswith("postgresql://hub")


def test_a_store_url_with_an_at_in_an_option_value_is_shown_as_given():
    url = "postgresql://db:5432/hub?application_name=ops@site&sslmode=require"
    assert describe_url(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://hub@db/hub?dbname=other", "option dbname differs from the dbname"),
        ("postgresql://hub:pw-address@db/hub?password=pw-option", "option password differs"),
        ("postgresql://hub@db/hub?sslmode=require&sslmode=disable", "sslmode is given twice"),
        ("postgresql://hub@db/hub?sslmode", "an option has no '='"),
        ("postgresql://hub:pa/ss-word@db/hub", "percent-encode them in the password"),
        # names psycopg2 or peewee would take for themselves instead of libpq
        ("postgresql://hub@db/hub?thread_safe=", 'invalid connection option "thread_safe"'),
        ("postgresql://hub@db/hub?database=x", 'invalid connection option "database"'),
        ("postgresql://hub@db/hub?cursor_factory=x", 'invalid connection option "cursor_factory"'),
    ],
)
def test_a_store_url_libpq_would_read_otherwise_is_refused_naming_what_to_fix(url, expected):
    with pytest.raises(StoreError) as info:
        connect(url)
    assert expected in str(info.value)
    for secret in ("pw-address", "pw-option", "ss-word"):
        assert secret not in str(info.value)


def test_options_the_address_leaves_out_are_kept_and_a_plus_stays_a_plus():
    """`?host=/run/postgresql` (a Unix socket) was replaced by 127.0.0.1, `?port=` by 5432,
    and `+` read as a space (libpq decodes only %XX)."""
    db = connect("postgresql://hub@/hub?host=/run/postgresql&port=5433&application_name=a+b")
    assert db.connect_params["host"] == "/run/postgresql"
    assert db.connect_params["port"] == "5433"
    assert db.connect_params["application_name"] == "a+b"
    db = connect("postgresql://hub@db.example.com/hub?password=p%2Bw%26x")
    assert db.connect_params["password"] == "p+w&x"
    assert db.connect_params["host"] == "db.example.com"


def test_a_password_holding_a_slash_stops_the_hub_with_exit_5_and_stays_masked(tmp_path):
    from hub.cli.main import cli

    hubenv = HubEnv(tmp_path, "postgresql://hub:pa/ss-word-9@127.0.0.1:5432/hub")
    hubenv.write_config()
    for args in (["status"], ["status", "--json"], ["sync", "things"]):
        res = CliRunner().invoke(cli, args, env=hubenv.env())
        assert res.exit_code == 5, res.output
        assert "percent-encode them in the password (%2F, %3F, %23)" in res.output
        assert "ss-word-9" not in res.output and "pa/ss" not in res.output


# -- SAP B1 readiness --------------------------------------------------------------------------
def test_a_request_timing_out_after_sap_answered_another_does_not_make_it_unreachable():
    """Many threads: a request sent before SAP answered another one, and timing out after
    that answer, made /readyz 503 'sapb1 reachable' until some later request was answered."""
    import threading

    import httpx
    from sapb1.sapb1_fakes import FakeServiceLayer

    fake = FakeServiceLayer()
    client = fake.client()
    fake.routes[("GET", "Items")] = lambda r: httpx.Response(200, json={"value": []})
    client.get("Items")  # logs in
    in_flight, release = threading.Event(), threading.Event()

    def items(request):
        if request.url.params.get("slow"):
            in_flight.set()
            assert release.wait(5)
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"value": []})

    fake.routes[("GET", "Items")] = items
    failures = []

    def slow():
        try:
            client.get("Items", params={"slow": "1"})
        except Exception as exc:
            failures.append(exc)

    worker = threading.Thread(target=slow)
    worker.start()
    assert in_flight.wait(5)
    client.get("Items")  # answered while the slow one waits
    release.set()
    worker.join(5)
    assert len(failures) == 1 and "timed out" in str(failures[0])
    check = client.session.readiness(0.0)
    assert check.ok, check.detail

    # a request sent after the last answer and getting none still counts
    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    fake.routes[("GET", "Items")] = refused
    with pytest.raises(Exception, match="refused"):
        client.get("Items")
    check = client.session.readiness(0.0)
    assert not check.ok and check.name == "reachable" and "refused" in check.detail


# -- plugins' status warnings ------------------------------------------------------------------
class _OddWarnings:
    """A third-party plugin's hub_status_warnings answering whatever ``value`` holds."""

    def __init__(self, value):
        self.value = value

    @hookimpl
    def hub_status_warnings(self, settings, state):
        return self.value


def _warnings_of(value):
    from hub.plugins import PluginHost, PluginInfo

    host = PluginHost()
    host.register(_OddWarnings(value), PluginInfo("odd", "odd"))
    return host.status_warnings({}, lambda plugin: None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("the subscription lapsed", [("odd", "the subscription lapsed")]),  # one, not 23
        (42, []),
        ({"a": 1}, []),
        ([None, "", "  ", 7, "real"], [("odd", "7"), ("odd", "real")]),
    ],
)
def test_odd_status_warnings_of_a_plugin_are_read_sensibly(value, expected):
    assert _warnings_of(value) == expected


def test_a_huge_status_warning_is_cut_after_its_secret_is_masked():
    from hub.ops.alerts import AlertedWarning
    from hub.plugins import WARNING_MAX_CHARS
    from hub.secrets import registry

    secret = "Zq7-warning-secret-" + "x" * 40
    registry.add(secret)
    cut_at = WARNING_MAX_CHARS - 10  # the secret straddles the cut
    huge = "w" * cut_at + secret + "y" * 100_000
    ((_, text), (_, alerted)) = _warnings_of([huge, AlertedWarning(huge, "odd.lapsed")])
    assert len(text) < WARNING_MAX_CHARS + 50 and text.endswith(" characters)")
    assert "Zq7" not in text and "Zq7" not in alerted
    assert isinstance(alerted, AlertedWarning) and alerted.alert_kind == "odd.lapsed"


# -- Salesforce budget alert day ---------------------------------------------------------------
def test_a_process_past_the_budget_across_the_utc_day_boundary_alerts_again(monkeypatch):
    """Usage past the budget before and after midnight UTC (a busy org): the pause of the new
    day was silent in a process that kept running, while a restart alerted."""
    from mlc_salesforce import limits

    sent: list[int] = []
    monkeypatch.setattr(
        limits, "publish_alert", lambda kind, subject, text, details: sent.append(details["used"])
    )
    now = [86400 * 20000 - 1.0]  # one second before midnight UTC
    budget = limits.ApiBudget(0.8, clock=lambda: now[0])
    budget.observe("api-usage=12000/15000")
    now[0] += 2.0
    assert not budget.exhausted()  # the new day's count is not known yet
    budget.observe("api-usage=12100/15000")
    budget.observe("api-usage=12200/15000")
    assert budget.exhausted() and sent == [12000, 12100]
