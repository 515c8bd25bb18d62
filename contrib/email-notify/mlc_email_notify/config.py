"""The ``[plugins.email-notify]`` settings and their checks beyond the schema."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Any

from hub import ConfigError, Setting

PLUGIN = "email-notify"
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")

SETTINGS: dict[str, Setting] = {
    "host": Setting(str, required=True, help="SMTP server name"),
    "port": Setting(int, default=587, minimum=1, maximum=65535, help="SMTP port"),
    "tls": Setting(str, default="starttls", choices=("starttls", "implicit"), fold_case=True,
                   help="starttls (port 587) or implicit TLS (port 465); never plain"),
    "username": Setting(str, help="SMTP login; omit for a relay without login"),
    "password": Setting(secret=True, help="SMTP password: {vault = NAME}, {env = VAR} ..."),
    "ca_bundle": Setting(str, help="PEM file of the CA(s) to trust; default: the system's"),
    "sender": Setting(str, required=True, help="From: address"),
    "recipients": Setting(list, items=str, required=True, help="To: addresses"),
    "max_per_hour": Setting(int, default=12, minimum=1, maximum=3600,
                            help="alert mails per hour; more are summed up in the next one"),
    "digest_hour": Setting(int, default=7, minimum=0, maximum=23,
                           help="UTC hour of the daily digest"),
    "digest": Setting(bool, default=True, help="send the daily digest"),
    "timeout": Setting(float, default=10.0, minimum=0.5, maximum=120.0,
                       help="seconds per SMTP conversation"),
}  # fmt: skip


def key(name: str) -> str:
    return f"plugins.{PLUGIN}.{name}"


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    tls: str
    username: str | None
    password: str | None
    ca_bundle: str | None
    sender: str
    recipients: tuple[str, ...]
    max_per_hour: int
    digest_hour: int
    digest: bool
    timeout: float

    def ssl_context(self) -> ssl.SSLContext:
        """Verification is never turned off; a private CA is trusted through ``ca_bundle``."""
        try:
            return ssl.create_default_context(cafile=self.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{key('ca_bundle')}: cannot read {self.ca_bundle}: {exc}") from None

    @classmethod
    def from_settings(cls, s: dict[str, Any]) -> MailConfig:
        for name in ("sender",):
            if not ADDRESS.match(str(s.get(name) or "")):
                raise ConfigError(f"{key(name)}: expected an e-mail address, got {s.get(name)!r}")
        recipients = tuple(s.get("recipients") or ())
        bad = [r for r in recipients if not ADDRESS.match(r)]
        if not recipients or bad:
            raise ConfigError(
                f"{key('recipients')}: expected a list of e-mail addresses"
                + (f"; not one: {bad[0]!r}" if bad else "")
            )
        if bool(s.get("username")) != bool(s.get("password")):
            raise ConfigError(f"{key('username')} and {key('password')}: give both or neither")
        if not s.get("host"):
            raise ConfigError(f"{key('host')}: required value missing: the SMTP server's name")

        def get(name: str) -> Any:  # the hub fills defaults; direct callers may leave them out
            value = s.get(name)
            return SETTINGS[name].default if value is None else value

        cfg = cls(
            host=s["host"],
            port=int(get("port")),
            tls=str(get("tls")).lower(),
            username=s.get("username"),
            password=s.get("password"),
            ca_bundle=s.get("ca_bundle"),
            sender=s["sender"],
            recipients=recipients,
            max_per_hour=int(get("max_per_hour")),
            digest_hour=int(get("digest_hour")),
            digest=bool(get("digest")),
            timeout=float(get("timeout")),
        )
        cfg.ssl_context()  # an unreadable CA file stops the hub at start-up
        return cfg
