"""The core's own routes on the listener: health and metrics, and the web console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..listener import Route
from .health import health_routes
from .metrics import RequestTally


def core_routes(hub: Any, engine: Any | None) -> tuple[list[Route], Callable]:
    """Routes for ``hub run``'s listener and the callback counting its answers."""
    requests = RequestTally()
    routes = health_routes(hub, engine, requests)
    return routes, requests
