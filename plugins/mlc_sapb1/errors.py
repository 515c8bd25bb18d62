"""How Service Layer answers become hub errors.

::

    hub.HubError
    ├── ServiceLayerError      SAP refused the request (4xx): status, SAP's code and message
    ├── hub.FatalError
    │   ├── LoginRejected      wrong user, password or company (never retried in a loop)
    │   └── UntrustedServer    the TLS certificate is not trusted (set ca_bundle)
    └── hub.RetriableError
        ├── TransientFailure   502/503/504, HTML error pages, truncated JSON, connection refused
        └── AmbiguousWrite     a write was sent and no answer came: it may have committed
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from hub import FatalError, HubError, RecordError, RetriableError


class ServiceLayerError(HubError):
    """SAP answered 4xx with its own error body."""

    def __init__(self, status: int, code: str, message: str, method: str = "", path: str = ""):
        self.status, self.code, self.message = status, code, message
        self.method, self.path = method, path
        where = f" ({method} {path})" if method else ""
        super().__init__(f"SAP B1 answered {status} code {code}: {message}{where}")

    @property
    def session_expired(self) -> bool:
        return self.status == 401 or (self.status == 403 and self.code == "301")


class LoginRejected(FatalError):
    """The Service Layer refused the credentials; SAP's code and message are kept."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(
            f"SAP B1 login rejected (code {code}): {message}; check plugins.sapb1.company_db, "
            "username and password"
        )


class UntrustedServer(FatalError):
    """The Service Layer's certificate does not chain to a trusted CA."""


class TransientFailure(RetriableError):
    """A failure a later attempt may not meet (gateway errors, dropped connections)."""


class AmbiguousWrite(RetriableError):
    """A write got no answer: it may or may not have committed. Look before retrying."""


def parse_error(response: httpx.Response) -> tuple[str, str]:
    """SAP's code and message from a v2 or v1 error body (code as number or string, message
    as string or ``{lang, value}``); the status line when the body is not SAP's."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", (response.reason_phrase or f"HTTP {response.status_code}")
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return "", (response.reason_phrase or f"HTTP {response.status_code}")
    message: Any = err.get("message", "")
    if isinstance(message, dict):
        message = message.get("value", "")
    return str(err.get("code", "")), str(message)


_BRACKETED = re.compile(r"\[(?:[A-Za-z]+\.)?([A-Za-z_][A-Za-z0-9_]*)\]")
_PROPERTY = re.compile(r"[Pp]roperty '([A-Za-z_][A-Za-z0-9_]*)'")


def field_in_message(message: str, payload: dict[str, Any] | None = None) -> str | None:
    """The field SAP's message is about: ``[ORDR.CardCode]``, ``Property 'U_X'``, or the first
    field of ``payload`` the message names."""
    for pattern in (_PROPERTY, _BRACKETED):
        m = pattern.search(message)
        if m:
            return m.group(1)
    for key in sorted(payload or {}, key=len, reverse=True):
        if re.search(rf"\b{re.escape(key)}\b", message):
            return key
    lowered = message.lower()
    for word, key in (("business partner", "CardCode"), ("bp code", "CardCode"),
                      ("item", "ItemCode"), ("currency", "DocCurrency")):  # fmt: skip
        if word in lowered:
            return key
    return None


def record_error(exc: ServiceLayerError, payload: dict[str, Any] | None = None) -> RecordError:
    """A rejected entity as a ``RecordError`` carrying SAP's code and message and the field."""
    return RecordError(
        f"SAP B1 rejected it: {exc.status} code {exc.code}: {exc.message}",
        field=field_in_message(exc.message, payload),
    )
