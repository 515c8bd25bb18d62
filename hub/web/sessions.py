"""Console sessions: random ids in HttpOnly, SameSite=Strict cookies; a CSRF token per
session checked on every action, with the Origin header; login attempts throttled."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from .accounts import Account

COOKIE = "mlc_console"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 12 * 3600
FAILURES_ALLOWED = 5  # per client address per window
FAILURE_WINDOW = 300.0


@dataclass
class Session:
    id: str
    account: Account
    csrf: str
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.login_key = secrets.token_bytes(32)  # signs the login form's CSRF token

    def open(self, account: Account) -> Session:
        s = Session(secrets.token_urlsafe(32), account, secrets.token_urlsafe(32))
        with self._lock:
            self._by_id[s.id] = s
        return s

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_id.get(session_id)
            if s is None:
                return None
            if now - s.seen > IDLE_SECONDS or now - s.created > MAX_SECONDS:
                del self._by_id[session_id]
                return None
            s.seen = now
            return s

    def close(self, session_id: str) -> None:
        with self._lock:
            self._by_id.pop(session_id, None)

    # -- login form CSRF and throttling --------------------------------------------------------
    def login_token(self) -> str:
        nonce = secrets.token_urlsafe(16)
        sig = hmac.new(self.login_key, nonce.encode(), "sha256").hexdigest()
        return f"{nonce}.{sig}"

    def login_token_ok(self, token: str) -> bool:
        nonce, _, sig = (token or "").partition(".")
        want = hmac.new(self.login_key, nonce.encode(), "sha256").hexdigest()
        return bool(nonce) and hmac.compare_digest(sig, want)

    def attempt(self, client: str) -> float | None:
        """Count a sign-in attempt from ``client`` before it is checked, or None when the limit
        is reached. Counting first (in one step with the check) keeps attempts sent at once
        from all passing the check before any of them failed; :meth:`succeeded` takes a right
        one back."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < FAILURE_WINDOW]
            if len(recent) >= FAILURES_ALLOWED:
                self._failures[client] = recent
                return None
            self._failures[client] = [*recent, now]
            return now

    def succeeded(self, client: str, stamp: float) -> None:
        with self._lock:
            held = self._failures.get(client, [])
            if stamp in held:
                held.remove(stamp)

    def throttled(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < FAILURE_WINDOW]
            self._failures[client] = recent
            return len(recent) >= FAILURES_ALLOWED

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, []).append(time.monotonic())


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf, token)


def cookie_value(headers: dict[str, str], name: str = COOKIE) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def set_cookie(value: str, *, secure: bool, max_age: int | None = None) -> str:
    attrs = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if secure:
        attrs.append("Secure")
    if max_age is not None:
        attrs.append(f"Max-Age={max_age}")
    return "; ".join(attrs)
