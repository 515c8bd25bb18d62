"""The hub's HTTP listener: one aiohttp server in its own thread, routes added by plugins.

``hub run`` starts it when ``[hub] listen = "HOST:PORT"`` is set (HTTPS with ``tls_cert`` and
``tls_key``, else plain HTTP for a reverse proxy in front). Plugins add routes through the
``hub_register_routes(router)`` hook: ``router.add(method, path, handler)``, where ``handler``
is a plain function taking an :class:`HttpRequest` and returning an :class:`HttpResponse`.
Handlers run on a small thread pool, never on the server's event loop nor in the engine, so a
handler may do blocking work (commit to the store) before it answers. A body larger than
``[hub] max_body`` bytes is answered 413 without being read into memory, and one whose body
does not arrive within ``BODY_TIMEOUT`` seconds is answered 408 and its connection closed; a
connection whose first request has not reached a route within ``HEADER_TIMEOUT`` seconds is
closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import ConfigError

log = logging.getLogger("hub.listener")

DEFAULT_MAX_BODY = 1024 * 1024
BODY_TIMEOUT = 30.0
"""Seconds a client may take to send its body: a slower one is answered 408 and dropped, so
clients that trickle a body byte by byte cannot hold connections open for good."""
HEADER_TIMEOUT = 30.0
"""Seconds from opening a connection to its first request reaching a route: a client still
sending its headers then (aiohttp alone would wait for ever) is disconnected."""


@dataclass
class HttpRequest:
    """What a route handler receives. Header names are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    remote: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpResponse:
    """What a route handler returns: ``body`` is bytes, text, or anything JSON encodes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[HttpRequest], HttpResponse]


@dataclass
class Route:
    plugin: str
    method: str
    path: str
    handler: Handler


class Router:
    """What ``hub_register_routes`` receives: ``add`` a route; ``state`` is the plugin's
    ``PluginState`` (kept across restarts, encrypted) for handlers that must store something."""

    def __init__(self, plugin: str, state: Any, into: list[Route]) -> None:
        self.plugin = plugin
        self.state = state
        self._into = into

    def add(self, method: str, path: str, handler: Handler) -> None:
        if not path.startswith("/"):
            raise ConfigError(f"plugin {self.plugin!r}: route path {path!r} must start with /")
        method = method.upper()
        for r in self._into:
            if r.path == path and r.method == method:
                raise ConfigError(
                    f"route {method} {path} is added by both {r.plugin!r} and {self.plugin!r}"
                )
        self._into.append(Route(self.plugin, method, path, handler))


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8480"`` or ``"[::1]:8480"`` -> (host, port); ConfigError otherwise."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"hub.listen: expected HOST:PORT such as 127.0.0.1:8480, got {value!r}")
    return host, int(port)


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("hub.tls_cert and hub.tls_key: give both (or neither, for plain HTTP)")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"hub.tls_cert / hub.tls_key: cannot load {cert}: {exc}") from None
    return ctx


class HubListener:
    """The server; ``start()`` returns once it accepts connections (``port`` is then known)."""

    def __init__(
        self,
        address: str,
        routes: list[Route],
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        handler_threads: int = 4,
        body_timeout: float = BODY_TIMEOUT,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self.host, self.port = parse_listen(address)
        self.routes = routes
        self.ssl_context = ssl_context
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.header_timeout = header_timeout
        self._guards: dict[int, _FirstRequestDeadline] = {}
        self._pool = ThreadPoolExecutor(handler_threads, thread_name_prefix="hub-http")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        # called with (plugin, method, route path, status) after each answer (for /metrics)
        self.on_response: Callable[[str, str, str, int], None] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body)
        for route in self.routes:
            app.router.add_route(route.method, route.path, self._wrap(route))
        return app

    def _wrap(self, route: Route):
        async def handle(request: web.Request) -> web.StreamResponse:
            guard = self._guards.get(id(request.transport))
            if guard is not None:
                guard.served()
            if request.content_length is not None and request.content_length > self.max_body:
                return web.json_response({"error": "request body too large"}, status=413)
            try:
                body = await asyncio.wait_for(request.read(), self.body_timeout)
            except web.HTTPRequestEntityTooLarge:
                return web.json_response({"error": "request body too large"}, status=413)
            except TimeoutError:
                log.warning(
                    "%s %s from %s: body not received within %g s; dropped",
                    request.method, request.path, request.remote, self.body_timeout,
                )  # fmt: skip
                resp = web.json_response({"error": "request body too slow"}, status=408)
                resp.force_close()
                return resp
            req = HttpRequest(
                request.method,
                request.path,
                {k.lower(): v for k, v in request.headers.items()},
                dict(request.query),
                body,
                request.remote,
            )
            loop = asyncio.get_running_loop()
            try:
                resp = await loop.run_in_executor(self._pool, route.handler, req)
            except Exception:
                log.exception("route %s %s of plugin %r failed", route.method, route.path,
                              route.plugin)  # fmt: skip
                self._count(route, 500)
                return web.json_response({"error": "internal error"}, status=500)
            out = _to_aiohttp(resp)
            self._count(route, out.status)
            return out

        return handle

    def _count(self, route: Route, status: int) -> None:
        if self.on_response is not None:
            self.on_response(route.plugin, route.method, route.path, status)

    def start(self, timeout: float = 15.0) -> None:
        self._thread = threading.Thread(target=self._serve, name="hub-listener", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            self.stop()
            raise ConfigError(
                f"hub.listen: cannot listen on {self.host}:{self.port}: {self._error}"
            )
        log.info("listening on %s (%d routes)", self.url, len(self.routes))

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            server = loop.run_until_complete(
                loop.create_server(self._protocol, self.host, self.port, ssl=self.ssl_context)
            )
            if self.port == 0:
                self.port = server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    def _protocol(self) -> asyncio.Protocol:
        """aiohttp's protocol for a new connection, under a first-request deadline."""
        return _FirstRequestDeadline(self._runner.server(), self)

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(15)
        self._pool.shutdown(wait=False, cancel_futures=True)


class _FirstRequestDeadline(asyncio.Protocol):
    """Passes everything to aiohttp's protocol; closes the connection if no request reached a
    route within ``header_timeout`` (slow-header clients). Idle kept-alive connections are
    aiohttp's own keep-alive timeout's business."""

    def __init__(self, inner: Any, listener: HubListener) -> None:
        self.inner, self.listener = inner, listener
        self.transport: Any = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.listener._guards[id(transport)] = self
        self.inner.connection_made(transport)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.listener.header_timeout, self._expire)

    def served(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expire(self) -> None:
        peer = self.transport.get_extra_info("peername")
        log.warning("connection from %s sent no whole request within %g s; closed",
                    peer, self.listener.header_timeout)  # fmt: skip
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.served()
        self.listener._guards.pop(id(self.transport), None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _to_aiohttp(resp: HttpResponse | tuple) -> web.Response:
    if isinstance(resp, tuple):  # (status, body) or (status, body, headers)
        resp = HttpResponse(*resp)
    body = resp.body
    headers = dict(resp.headers)
    if body is None:
        return web.Response(status=resp.status, headers=headers)
    if isinstance(body, bytes):
        return web.Response(status=resp.status, body=body, headers=headers)
    if isinstance(body, str):
        return web.Response(status=resp.status, text=body, headers=headers)
    return web.json_response(body, status=resp.status, headers=headers)


def start_listener(
    hub: Any, core_routes: list[Route] | None = None, on_response: Callable | None = None
) -> HubListener | None:
    """Start the listener of ``hub`` (plugins loaded) if ``[hub] listen`` is set, with the
    core's own routes (health, metrics, console) before the plugins' routes."""
    cfg = hub.config.hub
    address = cfg.get("listen")
    if not address:
        return None
    core = list(core_routes or [])
    routes = list(core)
    for r in hub.host.routes(hub.plugin_state):
        if any((c.method, c.path) == (r.method, r.path) for c in core):
            raise ConfigError(f"plugin {r.plugin!r}: route {r.method} {r.path} is the hub's own")
        routes.append(r)
    listener = HubListener(
        address,
        routes,
        ssl_context=tls_context(cfg.get("tls_cert"), cfg.get("tls_key")),
        max_body=int(cfg.get("max_body") or DEFAULT_MAX_BODY),
    )
    listener.on_response = on_response
    listener.start()
    return listener
