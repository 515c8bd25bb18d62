"""The hook functions called directly, against a real HTTPS receiver."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

import pytest
from mlc_webhook_notify import plugin
from mlc_webhook_notify.config import WebhookConfig
from mlc_webhook_notify.notifier import Notifier

from hub import ConfigError, Record, Setting

TOKEN = "tok-" + uuid.uuid4().hex


def record(n: int = 7, **kw) -> Record:
    fields = dict(
        id=n, flow="demo-orders", source="demo.generator", system="demo", object_type="Order",
        external_id=f"ORD-{n:07d}", op="upsert",
        payload={"order": f"ORD-{n:07d}", "customer": "C9999", "amount": 12.5},
        content_hash="h", status="processing", attempts=2,
    )
    fields.update(kw)
    return Record(**fields)


def settings(url: str, ca_file=None, **kw) -> dict:
    return {"url": url, "token": TOKEN, "ca_bundle": str(ca_file) if ca_file else None,
            "timeout": 2.0, "include_payload": False, "allow_plain_http": False, **kw}


@pytest.fixture(autouse=True)
def no_notifier():
    plugin.install(None)
    yield
    plugin.install(None)


def fast(cfg: WebhookConfig, **kw) -> Notifier:
    """A notifier with short backoff so retries take milliseconds."""
    kw.setdefault("backoff_base", 0.02)
    kw.setdefault("backoff_cap", 0.05)
    return Notifier(cfg, **kw)


# -- settings and URL validation -----------------------------------------------------------------
def test_settings_schema():
    schema = plugin.hub_plugin_settings()
    assert set(schema) == {"url", "token", "ca_bundle", "timeout", "include_payload",
                           "allow_plain_http"}
    assert all(isinstance(s, Setting) for s in schema.values())
    assert schema["url"].required
    assert schema["token"].secret and not schema["token"].required
    assert schema["timeout"].type is float and schema["timeout"].default == 5.0
    assert schema["include_payload"].default is False
    assert schema["allow_plain_http"].default is False
    assert not any(name in schema for name in ("verify", "insecure", "verify_tls"))


@pytest.mark.parametrize("url, extra", [
    ("http://hooks.example.com/x", {}),
    ("http://hooks.example.com/x", {"allow_plain_http": True}),  # only loopback may be plain
    ("http://127.0.0.1:8080/x", {}),  # loopback still needs allow_plain_http
    ("ftp://hooks.example.com/x", {}),
    ("hooks.example.com/x", {}),
    ("https:///no-host", {}),
    ("https://user:pw@hooks.example.com/x", {}),
])
def test_configure_rejects_url(url, extra):
    with pytest.raises(ConfigError, match=r"plugins\.webhook-notify\.url"):
        plugin.hub_configure(settings=settings(url, **extra))
    assert plugin.current() is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x"])
def test_plain_http_to_loopback_only_when_allowed(url):
    cfg = WebhookConfig.from_settings(settings(url, allow_plain_http=True))
    assert cfg.url == url


def test_configure_rejects_missing_ca_bundle(tmp_path):
    with pytest.raises(ConfigError, match=r"plugins\.webhook-notify\.ca_bundle: no such file"):
        plugin.hub_configure(settings=settings("https://hooks.example.com/x",
                                               ca_file=tmp_path / "missing.pem"))


def test_configure_rejects_unusable_ca_bundle(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"plugins\.webhook-notify\.ca_bundle"):
        plugin.hub_configure(settings=settings("https://hooks.example.com/x", ca_file=bad))


def test_configure_starts_one_notifier_and_replaces_the_old(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    first = plugin.current()
    assert first is not None and first.alive
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    assert plugin.current() is not first
    assert not first.alive


# -- posting -------------------------------------------------------------------------------------
def test_parked_record_is_posted_with_bearer_token(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    plugin.hub_record_parked(record=record(7), reason="record demo-orders/Order/ORD-0000007 "
                                                     "(#7), field 'customer': no account")
    (post,) = receiver.wait_for_posts(1)
    assert post.path == "/hooks/parked"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["user-agent"].startswith("ml-connector-webhook-notify/")
    body = post.json()
    at = body.pop("at")
    assert body == {
        "event": "record.parked", "flow": "demo-orders", "record_id": 7,
        "source": "demo.generator", "object_type": "Order", "external_id": "ORD-0000007",
        "reason": "record demo-orders/Order/ORD-0000007 (#7), field 'customer': no account",
        "attempts": 2,
    }
    assert at.endswith("Z") and datetime.fromisoformat(at).utcoffset().total_seconds() == 0


def test_other_alerts_are_posted_and_parked_ones_once(receiver, ca_file):
    from hub import Alert

    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    plugin.hub_alert(alert=Alert("record.parked", "posted by hub_record_parked instead"))
    plugin.hub_alert(alert=Alert("drift.found", "drift: 2 difference(s)", "orders: 2 differ",
                                 flow="orders", details={"differences": 2}))  # fmt: skip
    (post,) = receiver.wait_for_posts(1)
    body = post.json()
    assert body["event"] == "drift.found" and body["flow"] == "orders"
    assert body["details"] == {"differences": 2} and body["at"].endswith("Z")


def test_metrics_count_deliveries(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    plugin.hub_record_parked(record=record(1), reason="r")
    plugin.hub_flow_stopped(flow="demo-orders", reason="completed")
    samples = plugin.hub_metrics(settings={}, state=None)
    for m in samples:
        m.check()
    assert {m.labels["result"]: m.value for m in samples} == {
        "delivered": 1, "failed": 0, "dropped": 0}  # fmt: skip


def test_no_token_no_authorization_header(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file, token=None))
    plugin.hub_record_parked(record=record(), reason="r")
    (post,) = receiver.wait_for_posts(1)
    assert "authorization" not in post.headers


def test_payload_only_when_include_payload(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    plugin.hub_record_parked(record=record(1), reason="r")
    receiver.wait_for_posts(1)
    plugin.hub_configure(settings=settings(receiver.url, ca_file, include_payload=True))
    plugin.hub_record_parked(record=record(2), reason="r")
    first, second = receiver.wait_for_posts(2)
    assert "payload" not in first.json()
    assert second.json()["payload"] == {"order": "ORD-0000002", "customer": "C9999",
                                        "amount": 12.5}


def test_retries_a_503_then_succeeds(receiver, ca_file):
    receiver.statuses.extend([503, 503])
    notifier = plugin.install(fast(WebhookConfig.from_settings(settings(receiver.url, ca_file))))
    plugin.hub_record_parked(record=record(), reason="r")
    assert notifier.flush(10)
    posts = receiver.posts()
    assert len(posts) == 3
    assert len({p.headers["idempotency-key"] for p in posts}) == 1  # one event, three tries
    assert len({p.body for p in posts}) == 1
    assert (notifier.stats.delivered, notifier.stats.failed) == (1, 0)


def test_gives_up_after_max_attempts_and_never_logs_the_token(receiver, ca_file, caplog):
    receiver.statuses.extend([500] * 10)
    notifier = plugin.install(
        fast(WebhookConfig.from_settings(settings(receiver.url, ca_file)), max_attempts=3)
    )
    with caplog.at_level(logging.DEBUG):
        plugin.hub_record_parked(record=record(), reason="r")
        assert notifier.flush(10)
    assert len(receiver.posts()) == 3
    assert (notifier.stats.delivered, notifier.stats.failed) == (0, 1)
    assert "not delivered after 3 attempt(s): HTTP 500" in caplog.text
    assert TOKEN not in caplog.text
    assert "/hooks/parked" not in caplog.text  # the URL's path may be a secret too


def test_client_error_is_not_retried(receiver, ca_file, caplog):
    receiver.statuses.append(400)
    notifier = plugin.install(fast(WebhookConfig.from_settings(settings(receiver.url, ca_file))))
    plugin.hub_record_parked(record=record(), reason="r")
    assert notifier.flush(10)
    assert len(receiver.posts()) == 1
    assert notifier.stats.failed == 1
    assert "HTTP 400; not retried" in caplog.text


def test_untrusted_certificate_is_refused_not_retried(untrusted_receiver, ca_file, caplog):
    cfg = WebhookConfig.from_settings(settings(untrusted_receiver.url, ca_file))
    notifier = plugin.install(fast(cfg))
    plugin.hub_record_parked(record=record(), reason="r")
    assert notifier.flush(10)
    assert untrusted_receiver.posts() == []
    assert notifier.stats.failed == 1
    assert "after 1 attempt(s): TLS certificate not trusted" in caplog.text


def test_network_error_is_retried(closed_port, ca_file, caplog):
    url = f"https://127.0.0.1:{closed_port}/x"
    notifier = plugin.install(
        fast(WebhookConfig.from_settings(settings(url, ca_file)), max_attempts=3)
    )
    with caplog.at_level(logging.INFO):
        plugin.hub_record_parked(record=record(), reason="r")
        assert notifier.flush(10)
    assert notifier.stats.failed == 1
    assert "not delivered after 3 attempt(s): ConnectError" in caplog.text


def test_full_queue_drops_with_a_warning_and_never_blocks(receiver, ca_file, caplog):
    cfg = WebhookConfig.from_settings(settings(receiver.url, ca_file))
    notifier = plugin.install(Notifier(cfg, max_queue=2, start=False))
    for n in range(1, 5):
        plugin.hub_record_parked(record=record(n), reason="r")
    assert (notifier.stats.queued, notifier.stats.dropped) == (2, 2)
    assert "webhook queue is full" in caplog.text
    notifier.start()
    assert notifier.flush(10)
    assert [p.json()["record_id"] for p in receiver.posts()] == [1, 2]


def test_hook_never_raises_into_the_flow(caplog):
    plugin.hub_record_parked(record=record(), reason="r")  # not configured: a warning only
    assert "not configured" in caplog.text


def test_flow_stopped_flushes_the_queue(receiver, ca_file):
    plugin.hub_configure(settings=settings(receiver.url, ca_file))
    for n in range(1, 4):
        plugin.hub_record_parked(record=record(n), reason="r")
    plugin.hub_flow_stopped(flow="demo-orders", reason="completed")
    # no waiting here: the hook returned only once the queue was empty
    assert sorted(p.json()["record_id"] for p in receiver.posts()) == [1, 2, 3]


def test_close_delivers_then_stops_the_thread(receiver, ca_file):
    notifier = plugin.install(Notifier(WebhookConfig.from_settings(settings(receiver.url,
                                                                            ca_file))))
    notifier.submit(plugin.event_for(record(), "r", include_payload=False))
    assert notifier.close(10)
    assert len(receiver.posts()) == 1
    assert not notifier.alive
    assert notifier.submit(plugin.event_for(record(), "r", include_payload=False)) is False


def test_close_gives_up_within_its_bound(receiver, ca_file, caplog):
    receiver.statuses.extend([503] * 5)
    receiver.retry_after = "30"  # the server asks for 30 s; closing may not wait that long
    notifier = fast(WebhookConfig.from_settings(settings(receiver.url, ca_file)))
    notifier.submit(plugin.event_for(record(), "r", include_payload=False))
    receiver.wait_for_posts(1)
    started = time.monotonic()
    assert notifier.close(0.5) is False
    assert time.monotonic() - started < 5
    assert not notifier.alive
    assert len(receiver.posts()) == 1
    assert "gave up on 1 notification(s) at shutdown" in caplog.text


# -- ping ----------------------------------------------------------------------------------------
def test_ping_passes_on_any_answer_below_500(receiver, ca_file):
    receiver.head_status = 405
    (check,) = plugin.hub_ping(settings=settings(receiver.url, ca_file))
    assert check.name == "webhook" and check.ok, check.detail
    assert f"127.0.0.1:{receiver.port} reachable (HTTP 405)" in check.detail
    (head,) = receiver.requests
    assert head.method == "HEAD" and head.headers["authorization"] == f"Bearer {TOKEN}"


def test_ping_fails_on_5xx(receiver, ca_file):
    receiver.head_status = 502
    (check,) = plugin.hub_ping(settings=settings(receiver.url, ca_file))
    assert not check.ok and "HTTP 502" in check.detail


def test_ping_fails_on_a_closed_port(closed_port, ca_file):
    (check,) = plugin.hub_ping(settings=settings(f"https://127.0.0.1:{closed_port}/x", ca_file))
    assert not check.ok
    assert check.detail.startswith(f"https://127.0.0.1:{closed_port}: no answer: ConnectError")


def test_ping_fails_on_an_untrusted_certificate(untrusted_receiver, ca_file):
    (check,) = plugin.hub_ping(settings=settings(untrusted_receiver.url, ca_file))
    assert not check.ok
    assert "TLS certificate not trusted" in check.detail
    assert untrusted_receiver.requests == []


def test_ping_reports_bad_settings_as_a_failed_check():
    (check,) = plugin.hub_ping(settings=settings("http://hooks.example.com/x"))
    assert not check.ok and "plugins.webhook-notify.url" in check.detail
