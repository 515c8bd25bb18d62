"""ServiceLayerSession: one Service Layer login per hub process, shared by every thread.

Login is expensive on a real server (seconds), and parallel logins fail there, so the session
is created once and reused. It tracks the idle clock against ``SessionTimeout`` (minutes, slid
by every request) and logs in again just before it would lapse. A request answered 401 (or 403
with code 301) calls :meth:`renew` with the ticket it used: the first caller logs in, every
other caller holding the same stale ticket waits and reuses the new session (single flight).
A refused login is remembered for ``login_cooldown`` seconds so a wrong password costs one
Login call, not one per worker.

The session id and its last use can be kept in a ``state`` object (``get``/``set`` of strings,
encrypted by the hub) so a restarted hub reuses a session that is still valid.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from hub import Check

from . import metrics
from .errors import LoginRejected, TransientFailure, parse_error

log = logging.getLogger("hub.plugin.sapb1")

STATE_KEY = "session"


class StateStore(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class SessionTicket:
    """The session a request is sent with; ``generation`` tells renewals apart."""

    session_id: str
    route_id: str | None
    generation: int

    def cookie_header(self) -> str:
        cookie = f"B1SESSION={self.session_id}"
        return cookie + (f"; ROUTEID={self.route_id}" if self.route_id else "")


class ServiceLayerSession:
    def __init__(
        self,
        http: httpx.Client,
        *,
        company_db: str,
        username: str,
        password: str,
        state: StateStore | None = None,
        clock: Callable[[], float] = time.time,
        login_cooldown: float = 60.0,
        save_every: float = 30.0,
    ) -> None:
        self._http = http
        self._credentials = {"CompanyDB": company_db, "UserName": username, "Password": password}
        self._identity = f"{http.base_url}|{company_db}|{username}"
        self._state = state
        self._clock = clock
        self._cooldown = login_cooldown
        self._save_every = save_every
        self._lock = threading.Lock()
        self._ticket: SessionTicket | None = None
        self._timeout_s = 30 * 60.0
        self._last_used = 0.0
        self._last_saved = 0.0
        self._generation = 0
        self._refused: tuple[float, LoginRejected] | None = None
        self.logins = 0
        self.restored = False
        self.logged_in_at = 0.0  # when the session in use logged in (epoch seconds)
        self.login_error: str | None = None  # why the last login failed; None once one works
        # why the last request got no answer at all (refused, reset, timed out); None once
        # the server answers anything
        self.unreachable: str | None = None
        self._answers = 0  # answers the server gave, of any status
        self._answers_lock = threading.Lock()
        metrics.track(self)

    # -- reachability ----------------------------------------------------------------------------
    def answers_so_far(self) -> int:
        """Take before a request is sent; give to :meth:`no_answer` if it gets none."""
        return self._answers

    def answered(self) -> None:
        with self._answers_lock:
            self._answers += 1
            self.unreachable = None

    def no_answer(self, since: int, reason: str) -> None:
        """A request sent when :meth:`answers_so_far` was ``since`` got no answer: SAP counts as
        unreachable unless it answered another request meanwhile (with many threads, one
        request timing out after others were answered does not make SAP unreachable)."""
        with self._answers_lock:
            if self._answers == since:
                self.unreachable = reason

    # -- the idle clock ------------------------------------------------------------------------
    @property
    def margin(self) -> float:
        """Renew this many seconds before the idle timeout would end the session."""
        return min(60.0, self._timeout_s * 0.1)

    def _fresh(self, now: float) -> bool:
        return self._ticket is not None and now - self._last_used < self._timeout_s - self.margin

    def ticket(self) -> SessionTicket:
        """A session to send a request with: the current one, or a new login."""
        now = self._clock()
        ticket = self._ticket
        if ticket is not None and self._fresh(now):
            return ticket
        with self._lock:
            if self._ticket is None and not self.restored:
                self._restore()
            if self._fresh(self._clock()):
                return self._ticket  # type: ignore[return-value]
            if self._ticket is not None:
                log.info("SAP B1 session idle for %.0fs: logging in again", now - self._last_used)
                return self._login(renewal="idle")
            return self._login()

    def renew(self, stale: SessionTicket, reason: str = "rejected") -> SessionTicket:
        """The server refused ``stale`` (``reason`` ``rejected``) or its node cannot read
        (``node``): log in once for all callers that used it."""
        with self._lock:
            if self._ticket is not None and self._ticket.generation != stale.generation:
                return self._ticket
            log.info("SAP B1 session rejected by the server: logging in again")
            return self._login(renewal=reason)

    def touch(self, ticket: SessionTicket) -> None:
        """A request with ``ticket`` succeeded: the idle timeout starts again now."""
        now = self._clock()
        if self._ticket is ticket:
            self._last_used = now
            if self._state is not None and now - self._last_saved >= self._save_every:
                self._save()

    # -- what /metrics and /readyz read (no network) --------------------------------------------
    def clock_figures(self, now: float | None = None) -> dict[str, float] | None:
        """``age`` (since login) and ``idle`` (since last use) of the held session, or None."""
        if self._ticket is None:
            return None
        now = self._clock() if now is None else now
        return {"age": max(0.0, now - self.logged_in_at), "idle": max(0.0, now - self._last_used)}

    def readiness(self, now: float) -> Check:
        """Not ready only when the last login failed: a session idle past its timeout (or none
        held) is renewed by the next request without anyone's help, so it is reported, not
        counted against readiness (a hub that only writes to SAP may idle for hours)."""
        if self.unreachable:
            return Check("reachable", False, f"the last request got no answer: {self.unreachable}")
        if self.login_error:
            return Check("session", False, f"the last login failed: {self.login_error}")
        figures = self.clock_figures(now)
        if figures is None:
            return Check("session", True, "no session held; the next request logs in")
        if figures["idle"] >= self._timeout_s:
            return Check(
                "session", True,
                f"the session was idle {figures['idle']:.0f}s, past its timeout of "
                f"{self._timeout_s:.0f}s; the next request logs in again",
            )  # fmt: skip
        age, idle = figures["age"], figures["idle"]
        return Check(
            "session", True, f"held for {age:.0f}s, idle {idle:.0f}s of {self._timeout_s:.0f}s"
        )

    def invalidate(self) -> None:
        with self._lock:
            self._ticket = None

    # -- login ---------------------------------------------------------------------------------
    def _login(self, renewal: str | None = None) -> SessionTicket:
        """Log in (caller holds the lock). A refusal is remembered for the cooldown.
        ``renewal`` names why a held session is replaced (for the metrics)."""
        now = self._clock()
        if self._refused and now - self._refused[0] < self._cooldown:
            raise self._refused[1]
        self.logins += 1
        if renewal:
            metrics.RENEWALS.add(metrics.SYSTEM, renewal)
        try:
            ticket = self._send_login(now)
        except Exception as exc:
            metrics.LOGINS.add(metrics.SYSTEM, "failed")
            self.login_error = str(exc) or type(exc).__name__
            raise
        metrics.LOGINS.add(metrics.SYSTEM, "ok")
        self.login_error = None
        return ticket

    def _send_login(self, now: float) -> SessionTicket:
        since = self.answers_so_far()
        try:
            resp = self._http.post("Login", json=self._credentials)
        except httpx.TimeoutException as exc:
            metrics.count_call("POST", "Login", "timeout")
            reason = f"SAP B1 login timed out: {exc}"
            self.no_answer(since, reason)
            raise TransientFailure(reason) from None
        except httpx.TransportError as exc:
            from .client import transport_error  # the one place TLS failures are explained

            metrics.count_call("POST", "Login", "error")
            failure = transport_error(exc, self._http.base_url, "POST", "Login")
            self.no_answer(since, str(failure))
            raise failure from None
        metrics.count_call("POST", "Login", resp.status_code)
        self.answered()
        if resp.status_code in (400, 401, 403):
            code, message = parse_error(resp)
            refused = LoginRejected(code or str(resp.status_code), message)
            self._refused = (now, refused)
            self._ticket = None
            raise refused
        if resp.status_code != 200:
            code, message = parse_error(resp)
            raise TransientFailure(
                f"SAP B1 login answered {resp.status_code} {code}: {message}".strip()
            )
        try:
            body = resp.json()
            session_id = resp.cookies.get("B1SESSION") or body["SessionId"]
        except (ValueError, KeyError, TypeError):
            raise TransientFailure("SAP B1 login answered 200 without a session id") from None
        self._refused = None
        self.logged_in_at = self._clock()
        self._generation += 1
        self._timeout_s = float(body.get("SessionTimeout") or 30) * 60.0
        self._ticket = SessionTicket(session_id, resp.cookies.get("ROUTEID"), self._generation)
        self._last_used = self._clock()
        log.info("logged in to SAP B1 company %s", self._credentials["CompanyDB"])
        self._save()
        return self._ticket

    # -- persistence ---------------------------------------------------------------------------
    def _save(self) -> None:
        if self._state is None or self._ticket is None:
            return
        doc: dict[str, Any] = {
            "identity": self._identity,
            "session_id": self._ticket.session_id,
            "route_id": self._ticket.route_id,
            "timeout_s": self._timeout_s,
            "last_used": self._last_used,
            "logged_in_at": self.logged_in_at,
        }
        try:
            self._state.set(STATE_KEY, json.dumps(doc))
            self._last_saved = self._clock()
        except Exception as exc:  # persistence is an optimisation, never a failure
            log.warning("could not keep the SAP B1 session for a restart: %s", exc)

    def _restore(self) -> None:
        self.restored = True
        if self._state is None:
            return
        try:
            raw = self._state.get(STATE_KEY)
            doc = json.loads(raw) if raw else None
        except Exception as exc:
            log.warning("could not read the kept SAP B1 session: %s", exc)
            return
        if not doc or doc.get("identity") != self._identity:
            return
        self._timeout_s = float(doc["timeout_s"])
        self._last_used = float(doc["last_used"])
        self.logged_in_at = float(doc.get("logged_in_at") or self._last_used)
        self._generation += 1
        self._ticket = SessionTicket(doc["session_id"], doc.get("route_id"), self._generation)
        if self._fresh(self._clock()):
            log.info("reusing the SAP B1 session kept from the last run")
        else:
            self._ticket = None

    def save(self) -> None:
        """Keep the session's last use now (called when the hub stops)."""
        with self._lock:
            self._save()
