"""The core's own routes on the listener: health and metrics, and the web console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..listener import Route
from . import digest
from .health import health_routes
from .metrics import RequestTally


def core_routes(hub: Any, engine: Any | None) -> tuple[list[Route], Callable]:
    """Routes for ``hub run``'s listener and the callback counting its answers. (``hub run``
    calls this whether it listens or not; the hub is also attached for daily digests.)"""
    digest.attach(hub)
    requests = RequestTally()
    routes = health_routes(hub, engine, requests)
    cfg = hub.config.hub
    if cfg.get("console", True):
        from ..web.console import Console

        # Secure cookies whenever the console can be reached over HTTPS: TLS on the listener,
        # or a remote console (which must sit behind an HTTPS reverse proxy)
        secure = bool(cfg.get("tls_cert")) or bool(cfg.get("console_remote"))
        routes += Console(hub, engine, secure_cookies=secure).routes()
    return routes, requests
