"""A scripted Service Layer for unit tests: login, sessions, and routes a test programs."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable

import httpx
from mlc_sapb1.client import ServiceLayerClient
from mlc_sapb1.settings import ServiceLayerSettings

BASE = "https://sl.test:50000/b1s/v2/"

SESSION_EXPIRED = {
    "error": {"code": "301", "message": "Invalid session or session already timeout."}
}


def settings(**over) -> ServiceLayerSettings:
    values = {
        "service_layer_url": BASE,
        "company_db": "SBODEMOUS",
        "username": "manager",
        "password": "s3cret-pw",
        **over,
    }
    return ServiceLayerSettings.from_settings(values)


def sap_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


class FakeServiceLayer:
    """Accepts ``manager``/``s3cret-pw``; ``routes[(method, path)]`` answers other requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logins = 0
        self.sessions: set[str] = set()
        self.password = "s3cret-pw"
        self.session_timeout = 30
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.login_gate: threading.Event | None = None

    def expire_all(self) -> None:
        with self.lock:
            self.sessions.clear()

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/b1s/v2/")
        with self.lock:
            self.requests.append(request)
        if path == "Login":
            return self._login(request)
        cookie = request.headers.get("cookie", "")
        sid = next(
            (c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("B1SESSION=")), ""
        )
        with self.lock:
            valid = sid in self.sessions
        if not valid:
            return httpx.Response(401, json=SESSION_EXPIRED)
        route = self.routes.get((request.method, path)) or self.routes.get((request.method, "*"))
        if route is None:
            return sap_error(404, "-1000", f"no route {request.method} {path}")
        return route(request)

    def _login(self, request: httpx.Request) -> httpx.Response:
        if self.login_gate is not None:
            self.login_gate.wait(5)
        body = json.loads(request.content)
        with self.lock:
            self.logins += 1
            if body.get("Password") != self.password:
                return sap_error(401, "-304", "Fail to NONE-SSO login from SLD.")
            sid = str(uuid.uuid4())
            self.sessions.add(sid)
        return httpx.Response(
            200,
            json={"SessionId": sid, "Version": "1000280", "SessionTimeout": self.session_timeout},
            headers=[
                ("Set-Cookie", f"B1SESSION={sid};HttpOnly;"),
                ("Set-Cookie", "ROUTEID=.node1; path=/b1s"),
            ],
        )

    def client(self, **kw) -> ServiceLayerClient:
        over = kw.pop("settings", {})
        return ServiceLayerClient(
            settings(**over), transport=httpx.MockTransport(self.handler), **kw
        )


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class MemoryState:
    """A stand-in for the hub's plugin state (strings by key)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def set_many(self, values: dict[str, str]) -> None:
        self.values.update(values)

    def delete(self, *keys: str) -> int:
        return sum(1 for k in keys if self.values.pop(k, None) is not None)

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.values if k.startswith(prefix))
