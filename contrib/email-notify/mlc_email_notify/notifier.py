"""Alert mails and the daily digest, sent from one background thread.

Alerts become mails at once, at most ``max_per_hour`` in any hour: alerts past that are held
and sent together in one mail when the hour allows again, so an outage that parks a thousand
records sends a handful of mails, not a thousand.

The digest sums up, once a day at ``digest_hour`` (UTC), the 24 hours before: under ``hub run``
its figures come from the store (records written, parked, failed attempts and skipped per flow,
from every process on the store, and the latest ``hub reconcile``), and one process claims the
day in the store, so several processes on one PostgreSQL store send one digest between them.
Without the store (no ``hub run``) it sums up what this process saw since its last digest.
Alerts and stopped flows are always those this process saw. Nothing here raises into the hub.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import mailer
from .config import MailConfig

log = logging.getLogger(__name__)
HOUR = 3600.0
PREFIX = "[ml-connector]"


@dataclass
class Stats:
    sent: int = 0
    failed: int = 0
    held: int = 0
    digests: int = 0


@dataclass
class Tally:
    """What the digest reports."""

    since: float
    written: Counter = field(default_factory=Counter)
    parked: Counter = field(default_factory=Counter)
    alerts: Counter = field(default_factory=Counter)


def next_digest_at(now: float, hour: int) -> float:
    """The next ``hour``:00 UTC strictly after ``now``."""
    t = datetime.fromtimestamp(now, UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    if t.timestamp() <= now:
        t += timedelta(days=1)
    return t.timestamp()


def alert_text(alert: Any) -> str:
    lines = [alert.subject, ""]
    if alert.text:
        lines += [alert.text, ""]
    lines.append(f"kind: {alert.kind}")
    if alert.flow:
        lines.append(f"flow: {alert.flow}")
    for k, v in sorted((alert.details or {}).items()):
        lines.append(f"{k}: {v}")
    lines.append("at: " + datetime.fromtimestamp(alert.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    return "\n".join(lines) + "\n"


class MailNotifier:
    def __init__(
        self,
        config: MailConfig,
        *,
        clock: Callable[[], float] = time.time,
        send: Callable[[MailConfig, Any], None] = mailer.send,
        start: bool = True,
        ledger: Callable[[], Any] | None = None,
    ) -> None:
        self.config = config
        self._ledger = ledger or (lambda: None)  # the store's digest ledger, when there is one
        self.clock = clock
        self._send = send
        self.stats = Stats()
        self._cond = threading.Condition()
        self._outbox: deque[tuple[str, str]] = deque()
        self._sent_at: deque[float] = deque()  # alert mails of the last hour
        self._held: list[Any] = []
        self._busy = False
        self._stop = False
        now = clock()
        self.tally = Tally(since=now)
        self.digest_due = next_digest_at(now, config.digest_hour)
        self._thread = threading.Thread(target=self._run, name="email-notify", daemon=True)
        if start:
            self._thread.start()

    # -- what the plugin hands in --------------------------------------------------------------
    def submit(self, alert: Any) -> None:
        with self._cond:
            self.tally.alerts[alert.kind] += 1
            if alert.kind == "record.parked" and alert.flow:
                self.tally.parked[alert.flow] += 1
            now = self.clock()
            self._forget_old(now)
            if len(self._sent_at) >= self.config.max_per_hour or self._held:
                self._held.append(alert)
                self.stats.held += 1
                return
            self._sent_at.append(now)
            self._outbox.append((f"{PREFIX} {alert.subject}", alert_text(alert)))
            self._cond.notify_all()

    def note_written(self, flow: str) -> None:
        with self._cond:
            self.tally.written[flow] += 1

    # -- the thread ----------------------------------------------------------------------------
    def _forget_old(self, now: float) -> None:
        while self._sent_at and now - self._sent_at[0] >= HOUR:
            self._sent_at.popleft()

    def tick(self) -> None:
        """Release held alerts once the hour allows, and queue the digest when it is due."""
        due = None
        with self._cond:
            now = self.clock()
            self._forget_old(now)
            if self._held and len(self._sent_at) < self.config.max_per_hour:
                held, self._held = self._held, []
                self._sent_at.append(now)
                self._outbox.append(self._held_mail(held))
            if self.config.digest and now >= self.digest_due:
                due = self.digest_due
                self.digest_due = next_digest_at(now, self.config.digest_hour)
            if self._outbox:
                self._cond.notify_all()
        if due is not None:
            self._queue_digest(now, due)

    def _queue_digest(self, now: float, due: float) -> None:
        """The digest of the day ending at ``due``: from the store if this process claims the
        day there (another process that did sends it), else from what this process saw."""
        try:
            ledger = self._ledger()
            mail = self._store_digest(ledger, now, due) if ledger is not None else None
            shared = ledger is not None
        except Exception as exc:  # the store does not answer: this process's own figures
            log.warning("email-notify: digest figures not read from the store (%s); "
                        "sending what this process saw", exc)  # fmt: skip
            mail, shared = None, False
        with self._cond:
            if not shared:
                mail = self._digest_mail(now)
            if mail is not None:
                self._outbox.append(mail)
                self._cond.notify_all()

    def send_digest_now(self) -> None:
        with self._cond:
            self._outbox.append(self._digest_mail(self.clock()))
            self._cond.notify_all()

    def _held_mail(self, held: list[Any]) -> tuple[str, str]:
        kinds = Counter(a.kind for a in held)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        body = [f"{len(held)} alerts arrived while alert mails were paused "
                f"(more than {self.config.max_per_hour} in an hour): {summary}.", ""]  # fmt: skip
        body += [f"- {a.subject}" + (f": {a.text}" if a.text else "") for a in held[:200]]
        if len(held) > 200:
            body.append(f"... and {len(held) - 200} more (see the console or hub status)")
        return f"{PREFIX} {len(held)} alerts held back: {summary}", "\n".join(body) + "\n"

    def _digest_mail(self, now: float) -> tuple[str, str]:
        t = self.tally
        flows = sorted(set(t.written) | set(t.parked))
        parts = [f"{t.written[f]} {f} written, {t.parked[f]} parked" for f in flows]
        drift = t.alerts.get("drift.found", 0)
        stopped = t.alerts.get("flow.stopped", 0)
        headline = "; ".join(parts) or "nothing synced"
        headline += f"; {drift} drift"
        start = datetime.fromtimestamp(t.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = [f"Since {start}: {headline}.", ""]
        body += [f"- {p}" for p in parts]
        body.append(f"- flows stopped: {stopped}")
        body.append(f"- drift reports with differences: {drift}")
        body.append(f"- alerts: {sum(t.alerts.values())} ({self.stats.held} held back in all)")
        self.tally = Tally(since=now)
        self.stats.digests += 1
        return f"{PREFIX} daily digest: {headline}", "\n".join(body) + "\n"

    def _store_digest(self, ledger: Any, now: float, due: float) -> tuple[str, str] | None:
        day = datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%d")
        if not ledger.claim(day):
            log.info("email-notify: the digest of %s is sent by another hub process", day)
            with self._cond:
                self.tally = Tally(since=now)
            return None
        since = due - 86400.0
        figures = ledger.figures(since)
        drift = ledger.drift_since(since)
        with self._cond:
            return self._figures_mail(now, since, figures, drift)

    def _figures_mail(self, now: float, since: float, figures: dict[str, dict[str, int]],
                      drift: int | None) -> tuple[str, str]:  # fmt: skip
        t = self.tally
        flows = sorted(f for f, steps in figures.items() if steps)
        parts = [
            f"{figures[f].get('written', 0)} {f} written, {figures[f].get('parked', 0)} parked"
            for f in flows
        ]
        headline = "; ".join(parts) or "nothing synced"
        headline += f"; {drift or 0} drift"
        start = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = [f"Since {start}, every hub process on the store: {headline}.", ""]
        for f in flows:
            n = figures[f]
            written, parked = n.get("written", 0), n.get("parked", 0)
            failed, skipped = n.get("failed", 0), n.get("skipped", 0)
            body.append(f"- {f}: {written} written, {parked} parked, {failed} failed attempts, "
                        f"{skipped} skipped")  # fmt: skip
        if drift is None:
            body.append("- drift: no hub reconcile in this period")
        else:
            body.append(f"- drift: {drift} differences in the latest hub reconcile")
        body.append(f"- flows stopped (seen by this process): {t.alerts.get('flow.stopped', 0)}")
        body.append(f"- alerts (seen by this process): {sum(t.alerts.values())} "
                    f"({self.stats.held} held back in all)")  # fmt: skip
        self.tally = Tally(since=now)
        self.stats.digests += 1
        return f"{PREFIX} daily digest: {headline}", "\n".join(body) + "\n"

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._outbox and not self._stop:
                    self._cond.wait(timeout=30.0)
                    if not self._outbox and not self._stop:
                        break  # time to tick
                if self._stop and not self._outbox:
                    return
                item = self._outbox.popleft() if self._outbox else None
                self._busy = item is not None
            if item is None:
                self.tick()
                continue
            self._deliver(*item)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _deliver(self, subject: str, body: str) -> None:
        try:
            self._send(self.config, mailer.build(self.config, subject, body))
            self.stats.sent += 1
        except mailer.MailError as exc:
            self.stats.failed += 1
            log.warning("email-notify: mail %r not sent: %s", subject[:80], exc)
        except Exception:
            self.stats.failed += 1
            log.exception("email-notify: mail %r not sent", subject[:80])

    def flush(self, timeout: float) -> bool:
        """Wait until every queued mail was handed over (or failed); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._outbox or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float) -> None:
        self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
