"""The ``[plugins.sapb1]`` section: its schema and the checks made at start-up."""

from __future__ import annotations

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
    "timeout": Setting(float, default=30.0, minimum=1, help="seconds per request"),
    "page_size": Setting(int, default=500, minimum=1, help="Prefer: odata.maxpagesize"),
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
        parsed = urlparse(url)
        key = f"{SECTION}.service_layer_url"
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
