"""API call accounting: the daily limit, the ``Sforce-Limit-Info`` header, statistics."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .org_state import OrgState


class ApiUsage:
    def __init__(self, org: OrgState) -> None:
        self.org = org
        self.day = ""
        self.used = 0
        self.by_route: Counter[str] = Counter()
        self.total_calls = 0

    def _roll_day(self) -> None:
        today = str(self.org.clock.now_ms() // 86_400_000)  # the UTC day number
        if today != self.day:
            self.day = today
            self.used = 0

    def exhausted(self) -> bool:
        self._roll_day()
        return self.used >= self.org.profile.daily_api_limit

    def count(self, route: str) -> None:
        self._roll_day()
        self.used += 1
        self.total_calls += 1
        self.by_route[route] += 1

    def header(self) -> str:
        self._roll_day()
        return f"api-usage={self.used}/{self.org.profile.daily_api_limit}"

    def remaining(self) -> int:
        self._roll_day()
        return max(0, self.org.profile.daily_api_limit - self.used)

    def reset(self) -> None:
        self.used = 0
        self.by_route.clear()
        self.total_calls = 0

    def to_dict(self) -> dict:
        return {"day": self.day, "used": self.used, "by_route": dict(self.by_route),
                "total_calls": self.total_calls}

    def load_dict(self, data: dict) -> None:
        self.day = data.get("day", "")
        self.used = data.get("used", 0)
        self.by_route = Counter(data.get("by_route", {}))
        self.total_calls = data.get("total_calls", 0)
