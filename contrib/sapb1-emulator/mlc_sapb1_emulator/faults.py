"""Faults injected on demand, per route, through the admin API.

Kinds:
- ``status``: answer ``status`` (502, 503 or 504) with an HTML body, as the Apache front does;
- ``delay``: wait ``delay`` seconds, then answer normally;
- ``drop``: close the connection without answering (nothing is processed);
- ``expire_session``: end the caller's session first, so the request gets the 401;
- ``recycle``: a worker recycle: all sessions end and the request gets 403 with code 301 (as
  some versions answer);
- ``commit_then_drop``: process the request (a write commits), then close the connection
  without answering.

``route`` is ``*`` or a prefix of the path below ``/b1s/v2/`` (``Orders``, ``BusinessPartners(``,
``$batch``, ``Login``); ``method`` is ``*`` or an HTTP method; ``times`` is how many matching
requests the fault hits (``null``: until removed).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass

from .errors import bad_request

KINDS = ("status", "delay", "drop", "expire_session", "recycle", "commit_then_drop")
KEY_RE = re.compile(r"\([^)]*\)")


@dataclass
class Fault:
    id: int
    kind: str
    route: str = "*"
    method: str = "*"
    status: int = 503
    delay: float = 1.0
    times: int | None = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and (self.route == "*" or path.startswith(self.route))


class FaultPlan:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: object) -> Fault:
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise bad_request(f"A fault needs 'kind', one of {', '.join(KINDS)}")
        allowed = {"kind", "route", "method", "status", "delay", "times"}
        unknown = set(spec) - allowed
        if unknown:
            raise bad_request(f"Unknown fault fields: {', '.join(sorted(unknown))}")
        try:
            fault = Fault(next(self._ids), **spec)
            fault.method = fault.method.upper()
            if fault.kind == "status" and fault.status not in range(400, 600):
                raise ValueError
            fault.delay = float(fault.delay)
            if fault.times is not None:
                fault.times = int(fault.times)
        except (TypeError, ValueError):
            raise bad_request("Invalid fault specification") from None
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching a request, counting the hit."""
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def remove(self, fault_id: int | None = None) -> None:
        if fault_id is None:
            self.faults.clear()
        else:
            self.faults = [f for f in self.faults if f.id != fault_id]

    def describe(self) -> list[dict]:
        return [asdict(f) for f in self.faults]


class RequestStats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.logins = 0
        self.failed_logins = 0
        self.requests: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.faults_fired = 0

    def record(self, method: str, path: str, status: int, code: str | None = None) -> None:
        route = f"{method} {KEY_RE.sub('(key)', path)}"
        self.requests[route] = self.requests.get(route, 0) + 1
        if status >= 400:
            label = f"{status} {code}" if code else str(status)
            self.errors[label] = self.errors.get(label, 0) + 1

    def describe(self) -> dict:
        return {
            "logins": self.logins, "failed_logins": self.failed_logins,
            "requests_total": sum(self.requests.values()), "requests": dict(self.requests),
            "errors_total": sum(self.errors.values()), "errors": dict(self.errors),
            "faults_fired": self.faults_fired,
        }
