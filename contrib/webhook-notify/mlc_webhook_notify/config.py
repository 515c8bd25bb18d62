"""The ``[plugins.webhook-notify]`` settings and their checks beyond the schema."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub import ConfigError, Setting

PLUGIN = "webhook-notify"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

SETTINGS: dict[str, Setting] = {
    "url": Setting(str, required=True, help="https:// address the notifications are posted to"),
    "token": Setting(
        str, secret=True, help="sent as `Authorization: Bearer <token>`; omit for no header"
    ),
    "ca_bundle": Setting(
        str, help="PEM file of the CA(s) to trust for the webhook; default: the system's CAs"
    ),
    "timeout": Setting(float, default=5.0, minimum=0.1, help="seconds per request"),
    "include_payload": Setting(
        bool, default=False, help="also post the record's payload (default: ids and reason only)"
    ),
    "allow_plain_http": Setting(
        bool, default=False, help="allow http:// to 127.0.0.1, ::1 or localhost (tests, relays)"
    ),
}


def key(name: str) -> str:
    """The full config key of one of this plugin's settings, as messages name it."""
    return f"plugins.{PLUGIN}.{name}"


@dataclass(frozen=True)
class WebhookConfig:
    """Checked settings, ready for use."""

    url: str
    token: str | None
    ca_bundle: str | None
    timeout: float
    include_payload: bool

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the URL: what logs may show (a path can hold a secret)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def verify(self) -> ssl.SSLContext | bool:
        """What httpx verifies the server with. Verification is never turned off."""
        if self.ca_bundle:
            return ssl.create_default_context(cafile=self.ca_bundle)
        return True

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> WebhookConfig:
        """Check resolved settings; raise ``hub.ConfigError`` naming the key at fault."""
        url = settings.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f"{key('url')}: required value missing: expected an https:// URL")
        url = url.strip()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if not host:
            raise ConfigError(f"{key('url')}: expected an https:// URL with a host, got {url!r}")
        if parts.username or parts.password:
            raise ConfigError(
                f"{key('url')}: credentials do not belong in the URL; "
                f"use {key('token')} = {{env = \"VAR\"}} instead"
            )
        if scheme == "http":
            if not (settings.get("allow_plain_http") and host in LOOPBACK_HOSTS):
                raise ConfigError(
                    f"{key('url')}: must be an https:// URL, got {parts.scheme}://{parts.netloc}"
                    f" (plain http:// is allowed only to {', '.join(LOOPBACK_HOSTS)} with"
                    f" {key('allow_plain_http')} = true)"
                )
        elif scheme != "https":
            raise ConfigError(
                f"{key('url')}: must be an https:// URL, got scheme {parts.scheme or 'none'!r}"
            )

        ca_bundle = settings.get("ca_bundle") or None
        if ca_bundle:
            path = Path(ca_bundle).expanduser()
            if not path.is_file():
                raise ConfigError(f"{key('ca_bundle')}: no such file: {path}")
            try:
                ssl.create_default_context(cafile=str(path))
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(
                    f"{key('ca_bundle')}: {path} is not a usable PEM CA file: {exc}"
                ) from None
            ca_bundle = str(path)

        timeout = settings.get("timeout")
        timeout = 5.0 if timeout is None else float(timeout)
        if not 0 < timeout <= 300:
            raise ConfigError(
                f"{key('timeout')}: expected seconds between 0 and 300, got {timeout}"
            )
        token = settings.get("token") or None
        return cls(
            url=url,
            token=token,
            ca_bundle=ca_bundle,
            timeout=timeout,
            include_payload=bool(settings.get("include_payload")),
        )
