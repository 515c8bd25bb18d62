"""Alert mails, rate limiting and the daily digest through a real SMTP server with TLS."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mlc_email_notify import plugin
from mlc_email_notify.config import MailConfig
from mlc_email_notify.notifier import MailNotifier, next_digest_at
from smtp_testing import PASSWORD, settings

from hub import Alert


def parked(i: int = 1) -> Alert:
    return Alert("record.parked", f"orders: record ORD-{i} parked",
                 f"record orders/Order/ORD-{i} (#{i}), field 'customer': no account",
                 flow="orders", details={"attempts": 1})  # fmt: skip


def test_an_alert_and_the_digest_arrive_over_starttls_with_login(smtp, ca_file):
    n = MailNotifier(MailConfig.from_settings(settings(smtp.port, ca_file)))
    try:
        n.submit(parked(7))
        assert n.flush(15)
        mail = smtp.wait_for(1)[0]
        assert mail.login == "hub@example.com" and mail.tls
        assert mail.recipients == ["ops@example.com", "oncall@example.com"]
        assert mail.message["Subject"] == "[ml-connector] orders: record ORD-7 parked"
        body = mail.message.get_content()
        assert "field 'customer': no account" in body and "kind: record.parked" in body
        for _ in range(412):
            n.note_written("orders")
        n.submit(parked(8))
        n.submit(Alert("drift.found", "drift: 2 differences", flow="orders"))
        n.send_digest_now()
        assert n.flush(15)
        digest = smtp.wait_for(4)[3].message
        assert digest["Subject"] == (
            "[ml-connector] daily digest: 412 orders written, 2 parked; 1 drift"
        )
        assert "flows stopped: 0" in digest.get_content()
    finally:
        n.close(5)
    assert n.stats.sent == 4 and n.stats.failed == 0


def test_implicit_tls(smtps, ca_file):
    n = MailNotifier(MailConfig.from_settings(settings(smtps.port, ca_file, tls="implicit")))
    try:
        n.submit(parked())
        assert n.flush(15)
    finally:
        n.close(5)
    assert smtps.wait_for(1)[0].message["Subject"].endswith("ORD-1 parked")


def test_rate_limit_holds_alerts_and_sums_them_up_later(smtp, ca_file):
    now = [1_000_000.0]
    cfg = MailConfig.from_settings(settings(smtp.port, ca_file, max_per_hour=2, digest=False))
    n = MailNotifier(cfg, clock=lambda: now[0])
    try:
        for i in range(6):
            n.submit(parked(i))
        assert n.flush(15)
        assert len(smtp.mails) == 2 and n.stats.held == 4
        n.tick()  # still within the hour: nothing more
        assert n.flush(15) and len(smtp.mails) == 2
        now[0] += 3600
        n.tick()
        assert n.flush(15)
        held = smtp.wait_for(3)[2].message
    finally:
        n.close(5)
    assert held["Subject"] == "[ml-connector] 4 alerts held back: 4 record.parked"
    assert "ORD-5" in held.get_content()


def test_an_untrusted_server_certificate_is_refused_and_nothing_leaks(smtp, caplog):
    caplog.set_level(logging.WARNING)
    n = MailNotifier(MailConfig.from_settings(settings(smtp.port, None)))  # the system's CAs
    try:
        n.submit(parked())
        assert n.flush(15)
    finally:
        n.close(5)
    assert n.stats.failed == 1 and smtp.mails == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_reported_without_it(smtp, ca_file, caplog):
    wrong = "not-the-Right-pw-1234"
    n = MailNotifier(MailConfig.from_settings(settings(smtp.port, ca_file, password=wrong)))
    try:
        n.submit(parked())
        assert n.flush(15)
    finally:
        n.close(5)
    assert n.stats.failed == 1 and smtp.mails == []
    assert smtp.logins and all(not ok for _user, ok in smtp.logins)  # PLAIN, then LOGIN
    assert "refused the login of hub@example.com (535)" in caplog.text
    assert wrong not in caplog.text


def test_the_digest_is_due_at_its_hour_utc():
    t = datetime(2026, 3, 4, 6, 59, tzinfo=UTC).timestamp()
    assert next_digest_at(t, 7) == datetime(2026, 3, 4, 7, 0, tzinfo=UTC).timestamp()
    t = datetime(2026, 3, 4, 7, 0, tzinfo=UTC).timestamp()
    assert next_digest_at(t, 7) == datetime(2026, 3, 5, 7, 0, tzinfo=UTC).timestamp()


def test_ping_checks_tls_and_login(smtp, ca_file):
    ok = plugin.hub_ping(settings(smtp.port, ca_file))
    assert ok[0].ok and "logged in as hub@example.com" in ok[0].detail
    bad = plugin.hub_ping(settings(smtp.port, ca_file, password="wrong-password-here"))
    assert not bad[0].ok and "wrong-password-here" not in bad[0].detail


def test_metrics_follow_the_mails(smtp, ca_file):
    plugin.install(MailNotifier(MailConfig.from_settings(settings(smtp.port, ca_file))))
    try:
        plugin.hub_alert(alert=parked(3))
        assert plugin.current().flush(15)
        samples = plugin.hub_metrics(settings={}, state=None)
    finally:
        plugin.install(None)
    for m in samples:
        m.check()  # names and labels the hub accepts
    assert {m.labels["result"]: m.value for m in samples} == {"sent": 1, "failed": 0, "held": 0}
