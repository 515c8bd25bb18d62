"""Hook implementations of email-notify (entry point ``email-notify``).

``hub_alert`` turns each alert into a mail (rate-limited), ``hub_record_synced`` counts writes
for the daily digest, ``hub_flow_stopped`` and interpreter exit flush queued mails for a bounded
time, ``hub_ping`` opens one SMTP conversation (TLS and login) without sending anything, and
``hub_metrics`` reports the mails sent, failed and held back.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from hub import Check, ConfigError, Metric, Record, Setting, hookimpl

from . import mailer
from .config import PLUGIN, SETTINGS, MailConfig
from .notifier import MailNotifier

log = logging.getLogger(__name__)
DRAIN_SECONDS = 15.0

_lock = threading.Lock()
_notifier: MailNotifier | None = None


@hookimpl
def hub_plugin_settings() -> dict[str, Setting]:
    return dict(SETTINGS)


def store_ledger() -> Any:
    """The store's digest ledger under ``hub run`` (one digest a day across processes)."""
    from hub.ops.digest import ledger

    return ledger(PLUGIN)


@hookimpl
def hub_configure(settings: dict[str, Any]) -> None:
    install(MailNotifier(MailConfig.from_settings(settings), ledger=store_ledger))


def install(notifier: MailNotifier | None) -> MailNotifier | None:
    global _notifier
    with _lock:
        previous, _notifier = _notifier, notifier
    if previous is not None and previous is not notifier:
        previous.close(DRAIN_SECONDS)
    return notifier


def current() -> MailNotifier | None:
    return _notifier


@hookimpl
def hub_alert(alert: Any) -> None:
    if _notifier is not None:
        _notifier.submit(alert)


@hookimpl
def hub_record_synced(record: Record, target_id: str | None, summary: dict[str, Any]) -> None:
    if _notifier is not None:
        _notifier.note_written(record.flow)


@hookimpl
def hub_flow_stopped(flow: str, reason: str) -> None:
    if _notifier is not None:
        _notifier.tick()
        if not _notifier.flush(DRAIN_SECONDS):
            log.warning("email-notify: mails still queued %.0fs after flow %s stopped",
                        DRAIN_SECONDS, flow)  # fmt: skip


@hookimpl
def hub_metrics(settings: dict[str, Any], state: Any) -> list[Metric]:
    n = _notifier
    if n is None:
        return []
    help_ = "Alert and digest mails by result"
    return [
        Metric("mlc_email_notifications_total", n.stats.sent, "counter", help_, {"result": "sent"}),
        Metric("mlc_email_notifications_total", n.stats.failed, "counter", help_,
               {"result": "failed"}),
        Metric("mlc_email_notifications_total", n.stats.held, "counter", help_,
               {"result": "held"}),
    ]  # fmt: skip


@hookimpl
def hub_ping(settings: dict[str, Any]) -> list[Check]:
    """One SMTP conversation: connect, TLS, login; nothing is sent."""
    try:
        config = MailConfig.from_settings(settings)
    except ConfigError as exc:
        return [Check("smtp", False, str(exc))]
    where = f"{config.host}:{config.port}"
    try:
        with mailer.open_smtp(config) as smtp:
            smtp.noop()
    except mailer.MailError as exc:
        return [Check("smtp", False, str(exc))]
    except Exception as exc:  # smtplib and ssl errors; never the password
        return [Check("smtp", False, f"{where}: {type(exc).__name__}: {exc}")]
    login = f", logged in as {config.username}" if config.username else ""
    return [Check("smtp", True, f"{where} answered over TLS ({config.tls}){login}")]


def _close_at_exit() -> None:
    install(None)


atexit.register(_close_at_exit)
