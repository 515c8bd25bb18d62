"""The org's daily API usage, read from ``Sforce-Limit-Info`` on every response.

``daily_api_budget`` is the fraction of the daily limit the hub may spend. Past it, work that can
wait (polling, backfill, sink writes, look-ups) pauses: :meth:`ApiBudget.check` raises
``RetriableError`` with a ``retry_after``, so records wait instead of being parked. The pause ends
when a response shows usage below the budget again, or when the UTC day rolls over (the daily
count restarts); while paused, at most one probe of ``/limits`` a minute learns the new usage.

When a response first shows usage at or past the budget (the pause starts), the alert
``salesforce.budget_crossed`` goes out once; it goes out again only after usage was seen under
the budget (a higher limit) and crossed it once more, or on a new UTC day. The day of the last alert
is kept in the plugin's state (``budget/alerted``), so a restart on the same UTC day does not
send it again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub import Check, RetriableError, publish_alert

from . import metrics

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
PROBE_EVERY = 60.0
ALERTED_KEY = "budget/alerted"  # the UTC day (days since the epoch) of the last budget alert
log = logging.getLogger(__name__)
PAUSE_RETRY = 300.0


@dataclass
class ApiUsage:
    used: int
    limit: int
    day: int  # days since the epoch (UTC) when it was read

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 0.0


def parse_limit_info(value: str | None) -> tuple[int, int] | None:
    """``api-usage=18/15000; api-bursts=1/750`` -> ``(18, 15000)``."""
    match = _USAGE.search(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


class ApiBudget:
    """What the hub has spent of the org's daily API limit, and whether it may spend more."""

    def __init__(self, budget: float, *, clock: Callable[[], float] = time.time) -> None:
        self.budget = budget
        self.clock = clock
        self.usage: ApiUsage | None = None
        self._lock = threading.Lock()
        self._last_probe = 0.0
        self._over = False  # usage was last seen at or past the budget (alert sent)
        self._over_day: int | None = None  # ... on this UTC day
        self._state: Any = None
        metrics.track_budget(self)

    def remember_in(self, state: Any) -> None:
        """Keep the alert's day in ``state`` (the plugin's): an alert sent today by an earlier
        process is not sent again after a restart. The first state given is the one used."""
        if state is None or self._state is not None:
            return
        self._state = state
        try:
            alerted = state.get(ALERTED_KEY)
        except Exception as exc:
            log.debug("could not read %s: %s", ALERTED_KEY, exc)
            return
        with self._lock:
            if alerted == str(self._today()) and self.usage is None:
                self._over = True  # crossed and alerted today, before this process started
                self._over_day = self._today()

    def _keep(self, alerted: bool) -> None:
        if self._state is None:
            return
        try:
            if alerted:
                self._state.set(ALERTED_KEY, str(self._today()))
            else:
                self._state.delete(ALERTED_KEY)
        except Exception as exc:
            log.debug("could not keep %s: %s", ALERTED_KEY, exc)

    def _today(self) -> int:
        return int(self.clock() // 86400)

    def observe(self, header: str | None) -> None:
        parsed = parse_limit_info(header)
        if not parsed:
            return
        with self._lock:
            usage = self.usage = ApiUsage(parsed[0], parsed[1], self._today())
            over = usage.fraction >= self.budget
            # a new UTC day's pause is a new one: alerted again, as after a restart
            crossed = over and not (self._over and self._over_day == usage.day)
            cleared = self._over and not over
            self._over, self._over_day = over, usage.day
        if cleared:
            self._keep(False)
        if crossed:
            self._keep(True)
            publish_alert(
                "salesforce.budget_crossed",
                f"Salesforce daily API budget reached: {usage.used}/{usage.limit} "
                f"({usage.fraction:.0%}, budget {self.budget:.0%})",
                "Work that can wait (polling, backfill, sink writes, look-ups) is paused until "
                "usage is under the budget again or the day rolls over (UTC); change events "
                "are still received.",
                details={"used": usage.used, "limit": usage.limit, "budget": self.budget},
            )

    def exhausted(self) -> bool:
        usage = self.usage
        if usage is None or usage.day != self._today():
            return False
        return usage.fraction >= self.budget

    def should_probe(self) -> bool:
        """While paused: whether to spend one call on ``/limits`` to learn the usage now."""
        now = self.clock()
        with self._lock:
            if now - self._last_probe < PROBE_EVERY:
                return False
            self._last_probe = now
            return True

    def check(self, what: str) -> None:
        """Raise ``RetriableError`` when ``what`` (non-urgent work) must wait for the budget."""
        if self.exhausted():
            usage = self.usage
            assert usage is not None
            raise RetriableError(
                f"{what} paused: daily API usage {usage.used}/{usage.limit} "
                f"({usage.fraction:.0%}) is past daily_api_budget {self.budget:.0%}",
                retry_after=PAUSE_RETRY,
            )

    def readiness(self) -> Check:
        """Not ready while non-urgent work is paused for the budget (no network)."""
        if self.exhausted():
            return Check("api_budget", False, f"daily API budget reached: {self.describe()}")
        return Check("api_budget", True, self.describe())

    def describe(self) -> str:
        usage = self.usage
        if usage is None:
            return f"budget {self.budget:.0%}; usage not read yet"
        state = "paused" if self.exhausted() else "ok"
        return (
            f"{usage.used}/{usage.limit} calls today ({usage.fraction:.1%}); "
            f"budget {self.budget:.0%}: {state}"
        )
