"""The emulator's clock: real time plus an offset that the admin API can move."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta


class EmulatorClock:
    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)

    def today(self) -> date:
        return self.now().date()

    def set_now(self, when: datetime) -> None:
        self.offset_ms = int(when.timestamp() * 1000) - int(time.time() * 1000)

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


def ms_to_sf(ms: int) -> str:
    """Format epoch milliseconds the way the REST API prints datetimes."""
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def parse_datetime(text: str) -> int:
    """Parse an ISO-8601 datetime (``Z``, ``+0000`` or ``+00:00`` offsets) to epoch ms."""
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    elif len(t) >= 5 and t[-5] in "+-" and t[-4:].isdigit() and ":" not in t[-5:]:
        t = t[:-2] + ":" + t[-2:]
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(round(dt.timestamp() * 1000))


def parse_date(text: str) -> str:
    return date.fromisoformat(text.strip()[:10]).isoformat()


def date_to_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
