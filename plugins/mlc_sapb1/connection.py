"""The one ServiceLayerClient of a hub process per Service Layer, shared by every component."""

from __future__ import annotations

import threading
from typing import Any

from .client import ServiceLayerClient
from .settings import ServiceLayerSettings

_clients: dict[ServiceLayerSettings, ServiceLayerClient] = {}
_lock = threading.Lock()


def shared_client(settings: dict[str, Any], state: Any = None) -> ServiceLayerClient:
    """The process's client for these settings, created (not yet logged in) on first use."""
    sl = ServiceLayerSettings.from_settings(settings)
    with _lock:
        client = _clients.get(sl)
        if client is None:
            client = _clients[sl] = ServiceLayerClient(sl, state=state)
        return client


def close_all() -> None:
    """Keep each session for the next run and close the connections (the hub is stopping)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
