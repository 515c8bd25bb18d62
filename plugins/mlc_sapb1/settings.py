"""The ``[plugins.sapb1]`` section: its schema and the checks made at start-up."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from hub import ConfigError, Setting

SECTION = "plugins.sapb1"

SCHEMA = {
    "service_layer_url": Setting(
        str, required=True, help="e.g. https://sap.example.local:50000/b1s/v2/"
    ),
    "company_db": Setting(str, required=True, help="the company database, e.g. SBODEMOUS"),
    "username": Setting(str, required=True),
    "password": Setting(secret=True, required=True),
    "ca_bundle": Setting(str, help="PEM file of the CA that signed the Service Layer certificate"),
    "allow_http": Setting(bool, default=False, help="accept an http:// Service Layer URL"),
    "timeout": Setting(float, default=30.0, minimum=1, maximum=600, help="seconds per request"),
    "page_size": Setting(
        int, default=500, minimum=1, maximum=10000, help="Prefer: odata.maxpagesize"
    ),
    "webhook_key": Setting(secret=True, help="HMAC key of the hub's event subscription"),
    "webhook_url": Setting(str, help="public HTTPS URL of /webhooks/sapb1 (hub sapb1 subscribe)"),
}


@dataclass(frozen=True)
class ServiceLayerSettings:
    """The validated settings the client needs."""

    url: str
    company_db: str
    username: str
    password: str
    ca_bundle: str | None = None
    timeout: float = 30.0
    page_size: int = 500
    webhook_key: str | None = None
    webhook_url: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> ServiceLayerSettings:
        """Check the resolved section; a problem raises ``ConfigError`` naming the key."""
        url = settings.get("service_layer_url") or ""
        key = f"{SECTION}.service_layer_url"
        try:
            parsed = urlparse(url)
            parsed.port  # noqa: B018 - a port past 65535 or not a number raises here
        except ValueError:
            raise ConfigError(f"{key}: not a URL (check the host and port)") from None
        if parsed.username is not None or parsed.password is not None:
            raise ConfigError(
                f"{key}: the URL carries a user name or password; remove them from the URL "
                "(the Service Layer takes them from username and password)"
            )
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ConfigError(f"{key}: expected an https:// URL ending in /b1s/v2/, got {url!r}")
        if parsed.scheme == "http" and not settings.get("allow_http"):
            raise ConfigError(
                f"{key}: {url!r} is plain HTTP; use https:// (or set allow_http = true for a "
                "Service Layer behind a trusted network)"
            )
        if not parsed.path.endswith("/b1s/v2/") or parsed.query or parsed.fragment:
            raise ConfigError(
                f"{key}: expected the Service Layer root ending in /b1s/v2/ (OData v4), got {url!r}"
            )
        for name in ("company_db", "username"):
            if not str(settings.get(name) or "").strip():
                raise ConfigError(f"{SECTION}.{name}: must not be empty")
        return cls(
            url=url,
            company_db=settings["company_db"],
            username=settings["username"],
            password=settings.get("password") or "",
            ca_bundle=settings.get("ca_bundle"),
            timeout=float(settings.get("timeout") or 30.0),
            page_size=int(settings.get("page_size") or 500),
            webhook_key=settings.get("webhook_key"),
            webhook_url=settings.get("webhook_url"),
        )


def check_at_start(settings: dict[str, Any]) -> ServiceLayerSettings:
    """``from_settings`` plus the checks that read files: what ``hub_configure`` runs."""
    checked = ServiceLayerSettings.from_settings(settings)
    check_ca_bundle(checked.ca_bundle)
    check_webhook_url(checked.webhook_url)
    return checked


def check_ca_bundle(path: str | None) -> None:
    """The ``ca_bundle`` must be a readable PEM file holding at least one certificate."""
    if not path:
        return
    key = f"{SECTION}.ca_bundle"
    if not os.path.isfile(path):
        raise ConfigError(f"{key}: no such file {path!r} (expected the PEM file of the CA)")
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise ConfigError(f"{key}: {path!r} holds no usable PEM certificate ({reason})") from None


def check_webhook_url(url: str | None) -> None:
    """SAP delivers only to HTTPS (``EventSubscriptions.WebhookURL``), never with userinfo."""
    if not url:
        return
    key = f"{SECTION}.webhook_url"
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018
    except ValueError:
        raise ConfigError(f"{key}: not a URL (check the host and port)") from None
    if parsed.username is not None or parsed.password is not None:
        raise ConfigError(f"{key}: the URL carries a user name or password; remove them")
    if parsed.scheme != "https" or not parsed.hostname:
        raise ConfigError(
            f"{key}: expected the hub's public https:// URL ending in /webhooks/sapb1 "
            "(the Service Layer delivers over HTTPS only)"
        )
