"""Login sessions with a sliding idle timeout."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Session:
    session_id: str
    user: str
    company: str
    node: int = 1  # the load-balancer node the session lives on (ROUTEID)
    last_seen: float = field(default_factory=time.monotonic)


class SessionRegistry:
    """Sessions by id; each use slides the idle timeout."""

    def __init__(self, timeout_minutes: int = 30, timeout_seconds: float | None = None) -> None:
        self.timeout_minutes = timeout_minutes
        self.timeout_seconds = timeout_seconds
        self._sessions: dict[str, Session] = {}

    @property
    def idle_limit(self) -> float:
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        return self.timeout_minutes * 60.0

    def open(self, user: str, company: str, node: int = 1) -> Session:
        s = Session(str(uuid.uuid4()), user, company, node)
        self._sessions[s.session_id] = s
        return s

    def touch(self, session_id: str | None) -> Session | None:
        """The live session for an id, its idle time reset; None if missing or expired."""
        if not session_id:
            return None
        s = self._sessions.get(session_id)
        if s is None:
            return None
        now = time.monotonic()
        if now - s.last_seen > self.idle_limit:
            del self._sessions[session_id]
            return None
        s.last_seen = now
        return s

    def close(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def expire(self, session_id: str | None = None) -> int:
        """Force expiry of one session (or all); returns how many ended."""
        if session_id is None:
            n = len(self._sessions)
            self._sessions.clear()
            return n
        return 1 if self._sessions.pop(session_id, None) else 0

    def active(self) -> int:
        now = time.monotonic()
        return sum(1 for s in self._sessions.values() if now - s.last_seen <= self.idle_limit)
