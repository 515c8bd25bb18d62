"""Injected faults for REST and OAuth calls (HTTP status, error code, delay, count)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass


@dataclass
class FaultRule:
    path: str = ".*"
    method: str = "*"
    status: int = 503
    error_code: str = "SERVER_UNAVAILABLE"
    message: str = "Server too busy"
    times: int = 1
    delay_ms: int = 0
    oauth_error: str = ""

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class FaultRules:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, spec: dict) -> FaultRule:
        known = set(FaultRule.__dataclass_fields__)
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        rule = FaultRule(**spec)
        try:
            re.compile(rule.path)
        except re.error as exc:
            raise ValueError(f"bad path pattern: {exc}") from None
        self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, consuming one of its uses (``times`` < 0: forever)."""
        for rule in self.rules:
            if rule.matches(method, path):
                if rule.times > 0:
                    rule.times -= 1
                    if rule.times == 0:
                        self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()

    def to_list(self) -> list[dict]:
        return [asdict(r) for r in self.rules]
