"""What the Salesforce plugin counts for ``/metrics`` and reports for ``/readyz``.

The REST client, the token and the CDC reader count as they work (thread-safe, in the process);
the hooks read those figures and never call Salesforce. Label values come from short fixed sets:
an operation (``query``, ``describe``, ``read``, ``create``, ``update``, ``upsert``, ``delete``,
``composite``, ``limits``, ``other``), an HTTP status code (or ``error`` when no answer came), and
a CDC channel (one of the configured channels). No record id or URL is ever a label.

- ``mlc_api_calls_total{system="salesforce",operation,status}``: REST calls (each counts
  against the org's daily API limit).
- ``mlc_logins_total{system="salesforce",result}``: token requests, ``ok`` or ``failed``.
- ``mlc_session_renewals_total{system="salesforce",reason}``: tokens that replaced a held one:
  ``expiring`` (within 5 minutes of its expiry) or ``rejected`` (``INVALID_SESSION_ID``).
- ``mlc_api_retries_total{system="salesforce",reason}``: calls sent again: ``transient``
  (backoff after 503, ``REQUEST_LIMIT_EXCEEDED``, ``UNABLE_TO_LOCK_ROW``, a dropped connection)
  or ``session`` (after a new token).
- ``mlc_api_usage{system}`` / ``mlc_api_limit{system}``: the org's daily API requests used and
  allowed, from the latest ``Sforce-Limit-Info`` header; ``mlc_api_budget_ratio{system}``: the
  configured ``daily_api_budget``; ``mlc_api_paused{system}``: 1 while non-urgent work waits
  for the budget.
- ``mlc_session_age_seconds{system="salesforce"}``: seconds since the token in use was issued;
  ``mlc_session_expires_in_seconds``: seconds until it expires (negative: expired).
- ``mlc_cdc_lag_seconds{channel}``: for the newest batch of change events received on a
  channel, the time the hub received it minus the newest ``commitTimestamp`` in it (how far
  behind the org the stream delivers); 0 once the stream sent a keepalive, which it does only
  when it has nothing older to deliver. Absent until the channel delivered something.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any

from hub import Check, Metric, system_tallies

SYSTEM = "salesforce"

API_CALLS, LOGINS, RENEWALS, RETRIES = system_tallies()

_VERSIONED = re.compile(r"/services/data/v[\d.]+/(.*)$")
_lock = threading.Lock()
_tokens: weakref.WeakSet = weakref.WeakSet()
_budgets: weakref.WeakSet = weakref.WeakSet()
_cdc_lag: dict[str, float] = {}


def operation(method: str, url_path: str) -> str:
    """The bounded operation of a REST call from its method and path."""
    m = _VERSIONED.search(url_path.split("?", 1)[0])
    rest = (m.group(1) if m else "").strip("/")
    parts = rest.split("/") if rest else []
    method = method.upper()
    if not parts:
        return "other"
    head = parts[0]
    if head in ("query", "queryAll"):
        return "query"
    if head == "limits":
        return "limits"
    if head == "composite":
        if len(parts) >= 2 and parts[1] == "sobjects":
            if method == "PATCH":
                return "upsert" if len(parts) >= 4 else "update"
            return {"POST": "create", "DELETE": "delete", "GET": "read"}.get(method, "other")
        return "composite"
    if head == "sobjects":
        if len(parts) == 1 or parts[-1] == "describe" or (len(parts) == 2 and method == "GET"):
            return "describe"
        if method == "POST":
            return "create"
        if method == "PATCH":
            return "upsert" if len(parts) >= 4 else "update"
        if method == "DELETE":
            return "delete"
        if method == "GET":
            return "read"
    return "other"


def status_label(status: int | str) -> str:
    if isinstance(status, int):
        return str(status) if 100 <= status <= 599 else "other"
    return "error"


def count_call(method: str, url_path: str, status: int | str) -> None:
    API_CALLS.add(SYSTEM, operation(method, url_path), status_label(status))


def track_token(token: Any) -> None:
    with _lock:
        _tokens.add(token)


def track_budget(budget: Any) -> None:
    with _lock:
        _budgets.add(budget)


def cdc_delivered(channel: str, newest_commit_ms: int | None, now: float | None = None) -> None:
    """Change events arrived on ``channel``; the newest of them committed at that time."""
    if not newest_commit_ms:
        return
    now = time.time() if now is None else now
    with _lock:
        _cdc_lag[channel] = max(0.0, now - newest_commit_ms / 1000.0)


def cdc_caught_up(channel: str) -> None:
    """A keepalive on ``channel``: nothing older waits to be delivered."""
    with _lock:
        _cdc_lag[channel] = 0.0


def _live(which: weakref.WeakSet) -> list[Any]:
    with _lock:
        return list(which)


def samples(now: float | None = None) -> list[Metric]:
    """Every sample of the plugin; no network call."""
    now = time.time() if now is None else now
    out = API_CALLS.samples() + LOGINS.samples() + RENEWALS.samples() + RETRIES.samples()
    sys_ = {"system": SYSTEM}
    budgets = [b for b in _live(_budgets) if b.usage is not None]
    if budgets:
        b = max(budgets, key=lambda x: x.usage.used)
        out += [
            Metric("mlc_api_usage", b.usage.used, "gauge",
                   "Daily API requests used, from Sforce-Limit-Info", sys_),
            Metric("mlc_api_limit", b.usage.limit, "gauge",
                   "Daily API requests allowed, from Sforce-Limit-Info", sys_),
            Metric("mlc_api_budget_ratio", b.budget, "gauge",
                   "Fraction of the daily limit the hub may spend (daily_api_budget)", sys_),
            Metric("mlc_api_paused", 1 if b.exhausted() else 0, "gauge",
                   "1 while non-urgent work waits for the daily API budget", sys_),
        ]  # fmt: skip
    tokens = [t.figures(now) for t in _live(_tokens)]
    tokens = [f for f in tokens if f is not None]
    if tokens:
        newest = min(tokens, key=lambda f: f["age"])
        out += [
            Metric("mlc_session_age_seconds", newest["age"], "gauge",
                   "Seconds since the session in use logged in", sys_),
            Metric("mlc_session_expires_in_seconds", newest["expires_in"], "gauge",
                   "Seconds until the token in use expires", sys_),
        ]  # fmt: skip
    with _lock:
        lags = sorted(_cdc_lag.items())
    out += [
        Metric("mlc_cdc_lag_seconds", lag, "gauge",
               "Receive time minus the newest commitTimestamp of the latest change events "
               "(0 after a keepalive)", {"channel": channel})
        for channel, lag in lags
    ]  # fmt: skip
    return out


def readiness(now: float | None = None) -> list[Check]:
    """The token: held, or the last request for one worked; the budget: not exhausted."""
    now = time.time() if now is None else now
    tokens = _live(_tokens)
    if not tokens:
        return [Check("token", True, "no Salesforce token used by this process yet")]
    checks = [t.readiness(now) for t in tokens]
    checks += [b.readiness() for b in _live(_budgets) if b.usage is not None]
    return checks
