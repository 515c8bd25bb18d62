"""SOQL literals, escaped: every value the plugin places in a query goes through here.

String literals take single quotes with backslash escapes (``\\'``, ``\\"``, ``\\\\``, ``\\n``,
``\\r``, ``\\t``, ``\\b``, ``\\f``); any other backslash would be an error, and an unescaped quote
an injection. Datetime literals are unquoted and take ``Z`` or ``+hh:mm``: the REST form
``2026-05-20T20:49:32.000+0000`` is converted, never echoed back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def quote(value: str) -> str:
    """A SOQL string literal for ``value``."""
    if not isinstance(value, str):
        raise TypeError(f"SOQL string literal needs a str, got {type(value).__name__}")
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def quote_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for an ``IN`` clause; ``values`` must not be empty."""
    items = [quote(v) for v in values]
    if not items:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(items) + ")"


def parse_datetime(value: str) -> datetime:
    """A REST datetime (``2026-05-20T20:49:32.000+0000``) or ISO text -> aware UTC datetime."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def datetime_literal(value: datetime | str) -> str:
    """An unquoted SOQL datetime literal, UTC, whole seconds (rounded down): ``...T12:00:00Z``."""
    moment = parse_datetime(value) if isinstance(value, str) else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch_ms(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)
