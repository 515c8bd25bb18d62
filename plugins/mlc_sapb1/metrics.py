"""What the SAP B1 plugin counts for ``/metrics`` and reports for ``/readyz``.

The client and the session count as they work (thread-safe, in the process); the hooks read
the counts and the sessions' clocks and never call the Service Layer. Every label value comes
from a short fixed set: an operation (``read``, ``create``, ``update``, ``delete``, ``action``,
``batch``, ``metadata``, ``login``, ``logout``, ``other``), an HTTP status code or ``timeout`` /
``error`` for an answer that never came. No entity key, URL or id is ever a label.

- ``mlc_api_calls_total{system="sapb1",operation,status}``: requests sent to the Service Layer.
- ``mlc_logins_total{system="sapb1",result}``: ``Login`` calls, ``ok`` or ``failed``.
- ``mlc_session_renewals_total{system="sapb1",reason}``: logins that replaced a session:
  ``rejected`` (the server answered 401, or 403 code 301), ``idle`` (about to reach its idle
  timeout) or ``node`` (the load-balancer node could not read).
- ``mlc_api_retries_total{system="sapb1",reason}``: requests sent again after such a renewal.
- ``mlc_session_age_seconds{system="sapb1"}``: seconds since the session in use logged in.
- ``mlc_session_idle_seconds{system="sapb1"}``: seconds since it was last used.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any

from hub import Check, Metric, system_tallies

SYSTEM = "sapb1"

API_CALLS, LOGINS, RENEWALS, RETRIES = system_tallies()

_ACTION = re.compile(r"\)/[A-Za-z]+$")
_sessions: weakref.WeakSet = weakref.WeakSet()
_lock = threading.Lock()


def operation(method: str, path: str) -> str:
    """The bounded operation of a request: never the entity key or the URL."""
    p = path.split("?", 1)[0].strip("/")
    if p == "Login":
        return "login"
    if p == "Logout":
        return "logout"
    if p == "$metadata":
        return "metadata"
    if p == "$batch":
        return "batch"
    method = method.upper()
    if method == "GET":
        return "read"
    if method in ("PATCH", "PUT"):
        return "update"
    if method == "DELETE":
        return "delete"
    if method == "POST":
        if _ACTION.search(p) or "Service_" in p.split("/", 1)[0]:
            return "action"  # Orders(5)/Cancel, CompanyService_GetAdminInfo
        return "create"
    return "other"


def status_label(status: int | str) -> str:
    """An HTTP status code as a label (bounded: 100-599), or ``timeout`` / ``error``."""
    if isinstance(status, int):
        return str(status) if 100 <= status <= 599 else "other"
    return status if status in ("timeout", "error") else "other"


def count_call(method: str, path: str, status: int | str) -> None:
    API_CALLS.add(SYSTEM, operation(method, path), status_label(status))


def track(session: Any) -> None:
    """Report ``session`` (a ``ServiceLayerSession``) while it lives."""
    with _lock:
        _sessions.add(session)


def _live() -> list[Any]:
    with _lock:
        return list(_sessions)


def samples(now: float | None = None) -> list[Metric]:
    """Every sample of the plugin; no network call."""
    out = API_CALLS.samples() + LOGINS.samples() + RENEWALS.samples() + RETRIES.samples()
    held = [s.clock_figures(now) for s in _live()]
    held = [f for f in held if f is not None]
    if held:
        age = max(f["age"] for f in held)
        idle = max(f["idle"] for f in held)
        labels = {"system": SYSTEM}
        out.append(Metric("mlc_session_age_seconds", age, "gauge",
                          "Seconds since the session in use logged in", labels))  # fmt: skip
        out.append(Metric("mlc_session_idle_seconds", idle, "gauge",
                          "Seconds since the session in use was last used", labels))  # fmt: skip
    return out


def readiness(now: float | None = None) -> list[Check]:
    """One check per Service Layer this process talks to: the session is held and within its
    idle timeout, and the last login worked. Nothing used yet: ready (nothing to report)."""
    sessions = _live()
    if not sessions:
        return [Check("session", True, "no Service Layer session used by this process yet")]
    return [s.readiness(now if now is not None else time.time()) for s in sessions]
