"""One connection per configured org, shared by every component of the plugin.

Components call :func:`connect` with their context's settings; they share the token (so a
refresh is single-flight across all of them), the HTTP session and the API budget.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests

from hub import ConfigError, FatalError, RetriableError

from .auth import OrgToken, make_http_session
from .limits import ApiBudget
from .rest import SalesforceRest
from .settings import base_url


@dataclass
class OrgConnection:
    settings: dict[str, Any]
    http: requests.Session
    token: OrgToken
    budget: ApiBudget
    rest: SalesforceRest
    _pubsub: Any = None

    def pubsub(self) -> Any:
        """The Pub/Sub API client of this org (created on first use)."""
        with _lock:
            if self._pubsub is None:
                from .pubsub import PubSubClient

                self._pubsub = PubSubClient(
                    self.settings["pubsub_endpoint"], self.token, self.settings.get("ca_bundle")
                )
            return self._pubsub


_connections: dict[tuple, OrgConnection] = {}
_lock = threading.Lock()


def build(settings: dict[str, Any], http: requests.Session | None = None) -> OrgConnection:
    """A new connection (not shared): ``hub ping`` and tests use this directly."""
    http = http or make_http_session(settings.get("ca_bundle"))
    token = OrgToken(
        base_url(settings),
        settings["client_id"],
        settings["client_secret"],
        http,
        session_timeout=settings.get("session_timeout") or 7200,
    )
    budget = ApiBudget(settings.get("daily_api_budget") or 0.8)
    rest = SalesforceRest(token, http, settings.get("api_version") or "63.0", budget)
    return OrgConnection(settings, http, token, budget, rest)


def connect(settings: dict[str, Any]) -> OrgConnection:
    """The shared connection for these settings (created on first use)."""
    key = (
        base_url(settings),
        settings["client_id"],
        settings.get("ca_bundle"),
        settings.get("api_version"),
        settings.get("daily_api_budget"),
        settings.get("session_timeout"),
    )
    with _lock:
        conn = _connections.get(key)
        if conn is None:
            conn = _connections[key] = build(settings)
        return conn


log = logging.getLogger("hub.plugin.salesforce")


def connect_at_start(settings: dict[str, Any], what: str, state: Any = None) -> OrgConnection:
    """``connect``, then get the token once when a component opens: refused credentials or an
    untrusted certificate stop the hub at start-up (``ConfigError``, exit 3) rather than stop
    the flow later; an org that is merely unreachable is logged and left to the flow's retries.
    ``state`` (the plugin's) keeps what must outlive the process (the budget alert's day)."""
    conn = connect(settings)
    conn.budget.remember_in(state)
    try:
        conn.token.current()
    except FatalError as exc:
        raise ConfigError(f"plugins.salesforce ({what}): {exc}") from None
    except RetriableError as exc:
        log.warning("%s: Salesforce not reachable at start-up (%s); the flow will retry", what, exc)
    return conn
