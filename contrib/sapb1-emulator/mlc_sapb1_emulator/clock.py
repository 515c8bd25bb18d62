"""The emulator clock: the creation and update stamps of every write come from it."""

from __future__ import annotations

import datetime as dt
import time


class EmulatorClock:
    """Real time shifted by an offset, or frozen at a chosen instant (server local time)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def timestamp(self) -> float:
        return self.frozen if self.frozen is not None else time.time() + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC).replace(tzinfo=None)

    def set(self, when: dt.datetime, frozen: bool = False) -> None:
        ts = when.replace(tzinfo=dt.UTC).timestamp() if when.tzinfo is None else when.timestamp()
        if frozen:
            self.frozen = ts
        else:
            self.frozen = None
            self.offset = ts - time.time()

    def advance(self, seconds: float) -> None:
        if self.frozen is not None:
            self.frozen += seconds
        else:
            self.offset += seconds

    def reset(self) -> None:
        self.offset, self.frozen = 0.0, None

    def stamp(self) -> tuple[str, str]:
        """(``YYYY-MM-DD``, ``HH:MM:SS``) for UpdateDate and UpdateTime."""
        now = self.now()
        return now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")

    def describe(self) -> dict:
        return {"now": self.now().isoformat(timespec="seconds"), "frozen": self.frozen is not None}
