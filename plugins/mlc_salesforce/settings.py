"""The ``[plugins.salesforce]`` settings: their schema and the checks made at start-up."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlparse

from hub import ConfigError, Setting

SETTINGS = {
    "instance_url": Setting(
        str, required=True, help="My Domain URL, https://<domain>.my.salesforce.com"
    ),
    "client_id": Setting(str, required=True, help="the connected app's consumer key"),
    "client_secret": Setting(secret=True, required=True, help="the connected app's secret"),
    "api_version": Setting(str, default="63.0", help="REST API version, e.g. 63.0"),
    "pubsub_endpoint": Setting(
        str,
        default="api.pubsub.salesforce.com:7443",
        help="host:port of the Pub/Sub API (gRPC over TLS)",
    ),
    "ca_bundle": Setting(str, help="one PEM file trusted for REST and gRPC (default: system)"),
    "session_timeout": Setting(
        int, default=7200, minimum=60, help="token lifetime when introspection is not permitted"
    ),
    "daily_api_budget": Setting(
        float, default=0.8, help="fraction of the daily API limit the hub may use (0 < x <= 1)"
    ),
}

_VERSION = re.compile(r"^\d{2,3}\.0$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def check_settings(settings: dict[str, Any]) -> None:
    """Raise ``ConfigError`` naming ``plugins.salesforce.KEY`` for the first unusable value."""
    key = "plugins.salesforce."
    url = urlparse(settings.get("instance_url") or "")
    if url.scheme != "https" or not url.hostname:
        raise ConfigError(
            f"{key}instance_url: expected an https:// URL such as "
            f"https://acme.my.salesforce.com, got {settings.get('instance_url')!r}"
        )
    if url.path not in ("", "/") or url.query:
        raise ConfigError(f"{key}instance_url: expected the org's base URL, without a path")
    if not _VERSION.match(settings.get("api_version") or ""):
        raise ConfigError(
            f"{key}api_version: expected a version such as '63.0', "
            f"got {settings.get('api_version')!r}"
        )
    if not _ENDPOINT.match(settings.get("pubsub_endpoint") or ""):
        raise ConfigError(
            f"{key}pubsub_endpoint: expected host:port such as api.pubsub.salesforce.com:7443, "
            f"got {settings.get('pubsub_endpoint')!r}"
        )
    ca = settings.get("ca_bundle")
    if ca and not os.path.isfile(ca):
        raise ConfigError(f"{key}ca_bundle: no such file {ca!r} (expected one PEM file)")
    budget = settings.get("daily_api_budget")
    if budget is not None and not 0 < budget <= 1:
        raise ConfigError(f"{key}daily_api_budget: expected a fraction in (0, 1], got {budget!r}")


def base_url(settings: dict[str, Any]) -> str:
    return settings["instance_url"].rstrip("/")
