"""Keeping secrets out of everything the hub writes.

Every secret the core resolves (from the environment, a file or the vault) is registered here.
:func:`redact` replaces registered values, and the values of keys that look secret, before a
string or a structure reaches a log line, an audit event, a stored error or the terminal.
:class:`RedactingFilter` applies it to every log record.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import ConfigError

MASK = "***"
_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authori[sz]ation|cookie|session[_-]?id|credential)",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 4
"""Shorter secrets are refused wherever one is resolved or stored: masking them would mask
ordinary text everywhere (a secret ``ab`` would turn every ``ab`` of every log into ``***``),
and leaving them unmasked would print them. No real password, token or key is that short."""


class SecretRegistry:
    """Process-wide set of secret values to mask."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def add(self, value: str | bytes | None) -> None:
        if value is None:
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        value = value.strip()
        if len(value) < MIN_SECRET_LENGTH:  # refused where secrets are resolved and stored
            return
        with self._lock:
            if value not in self._values:
                # longest first, so a secret containing another is masked whole
                self._values = tuple(sorted((*self._values, value), key=len, reverse=True))

    def extend(self, values: Iterable[str]) -> None:
        for v in values:
            self.add(v)

    def clear(self) -> None:
        with self._lock:
            self._values = ()

    @property
    def values(self) -> tuple[str, ...]:
        return self._values


registry = SecretRegistry()


def check_secret_value(value: str, what: str) -> None:
    """Refuse an empty, whitespace-only or too short secret with a ConfigError naming ``what``."""
    stripped = value.strip()
    if not stripped:
        raise ConfigError(f"{what} is empty" + (" (only whitespace)" if value else ""))
    if len(stripped) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{what} is {len(stripped)} character(s) long; secrets shorter than "
            f"{MIN_SECRET_LENGTH} characters are refused (they could not be masked in logs "
            "and output without masking ordinary text)"
        )


def resolve_reference(
    ref: dict[str, str], *, base_dir: Path, vault_get: Callable[[str], str]
) -> str:
    """The value a secret reference names, checked and registered for masking.

    ``{env = "VAR"}``, ``{file = "PATH"}`` (relative to ``base_dir``, UTF-8, trailing whitespace
    dropped) or ``{vault = "NAME"}`` (through ``vault_get``). A ConfigError says what is wrong,
    never quoting the value.
    """
    kind, name = next(iter(ref.items()))
    if kind == "env":
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(f"environment variable {name} is not set")
        what = f"environment variable {name}"
    elif kind == "file":
        path = Path(os.path.expanduser(name))
        if not path.is_absolute():
            path = base_dir / path
        try:
            value = path.read_bytes().decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"secret file {path} is not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None
        what = f"secret file {path}"
    else:
        value = vault_get(name)
        what = f"vault entry {name!r}"
    check_secret_value(value, what)
    registry.add(value)
    return value


# Credentials no configuration names but the wire carries: session cookies, bearer tokens.
# Wire-level debug logs (httpcore, http.client) print them as header tuples or lines.
_CREDENTIAL_HEADER = re.compile(
    r"""(?P<lead>\(b?['"](?:set-cookie|cookie|authorization|proxy-authorization|"""
    r"""x-b1-webhook-signature)['"],\s*b?['"])[^'"]*""",
    re.IGNORECASE,
)
_CREDENTIAL_LINE = re.compile(
    r"(?P<lead>(?:^|[\s'\"\\n])(?:set-cookie|cookie|authorization|proxy-authorization):[ \t]*)"
    r"[^\r\n'\"\\]+",
    re.IGNORECASE,
)
_CREDENTIAL_VALUE = re.compile(
    r"(?P<lead>\bB1SESSION=|\bBearer\s+|\baccess_token['\"]?\s*[:=]\s*['\"]?)"
    r"[A-Za-z0-9._~+/=!\-]{8,}"
    r"|\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{20,}",  # a Salesforce session id
    re.IGNORECASE,
)
_HINTS = ("cookie", "authorization", "b1session", "bearer", "access_token", "!", "signature")


def redact_credentials(text: str) -> str:
    """Mask session cookies, authorization headers and bearer or Salesforce session tokens,
    whatever their value: these are never registered, since no configuration names them."""
    lowered = text.lower()
    if not any(h in lowered for h in _HINTS):
        return text
    for pattern in (_CREDENTIAL_HEADER, _CREDENTIAL_LINE, _CREDENTIAL_VALUE):
        text = pattern.sub(lambda m: (m.group("lead") or "") + MASK, text)
    return text


def redact_text(text: str) -> str:
    for value in registry.values:
        if value in text:
            text = text.replace(value, MASK)
    return redact_credentials(text)


_key_is_secret: dict[str, bool] = {}


def _secret_key(key: Any) -> bool:
    """Whether values under ``key`` are secrets (``password``, ``sslpassword``, ``api_key``...)."""
    if not isinstance(key, str):
        return False
    hit = _key_is_secret.get(key)
    if hit is None:
        hit = bool(_SECRET_KEY.search(key))
        if len(_key_is_secret) < 10000:
            _key_is_secret[key] = hit
    return hit


key_looks_secret = _secret_key


def redact(obj: Any) -> Any:
    """Return ``obj`` with secret values and values under secret-looking keys masked."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if _secret_key(k) and v not in (None, "", [], {}):
                out[k] = MASK
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, list | tuple):
        return type(obj)(redact(v) for v in obj)
    return obj


class RedactingFilter(logging.Filter):
    """Masks registered secrets in the final text of every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text)
            record.exc_info = None
        return True
