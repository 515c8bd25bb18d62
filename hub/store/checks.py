"""What the store accepts: ids, labels and payloads checked before anything is written.

A value the database would refuse (too long for its column, a NUL character PostgreSQL cannot
store, a lone surrogate that is not UTF-8) must be caught before the transaction it would
break: a refused value in a batch fails the whole batch, and the batch would fail again on
every retry. These checks turn such a value into a reason that names the change or record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..components import Change

MAX_ID_LENGTH = 255  # external ids and target ids (the store's VARCHAR(255) columns)
MAX_TYPE_LENGTH = 200  # object types
OPS = ("upsert", "delete")
INVALID_OP = "invalid"  # op of a change refused at ingest: stored parked, never replayed


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_problem(value: Any, what: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored as ``what`` (a non-empty string of at most ``limit``
    characters, without NUL, encodable as UTF-8); ``None`` when it can."""
    if not isinstance(value, str):
        return f"{what} must be a string, got {type(value).__name__} {_show(value)}"
    if not value:
        return f"{what} must not be empty"
    if len(value) > limit:
        return f"{what} {_show(value)} is {len(value)} characters long (at most {limit})"
    if "\x00" in value:
        return f"{what} {_show(value)} contains a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{what} {_show(value)} is not valid Unicode (a lone surrogate)"
    return None


def id_problem(value: Any, what: str = "external id") -> str | None:
    return text_problem(value, what, MAX_ID_LENGTH)


def payload_text(payload: Any) -> str:
    """The payload as canonical JSON; ``ValueError`` when it is not a JSON object of JSON values.

    Values JSON cannot represent (dates, sets, objects, NaN) are refused rather than turned
    into their ``repr``: what is stored is exactly what a replay will send.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a JSON object (dict), got {type(payload).__name__}")
    try:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload is not JSON: {exc}") from None


def placeholder_id(value: Any) -> str:
    """A storable stand-in for an id that cannot be stored, stable for the same bad value."""
    digest = hashlib.sha256(repr(value).encode("utf-8", "backslashreplace")).hexdigest()
    return f"invalid-id-{digest[:16]}"


def storable_text(text: str) -> str:
    """``text`` with what PostgreSQL cannot store in TEXT (NUL, lone surrogates) escaped."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def label_ok(value: Any) -> bool:
    return value is None or text_problem(value, "object type", MAX_TYPE_LENGTH) is None


def check_change(c: Any, index: int, default_type: str) -> str | None:
    """Why change ``index`` of a batch cannot be stored (``None`` when it can).

    The id must be a non-empty string of at most 255 characters without NUL, the payload a
    JSON object of JSON values, ``op`` one of upsert/delete. On success the change's canonical
    JSON is cached on it, so it is encoded once.
    """
    if not isinstance(c, Change):
        return f"expected a Change, got {type(c).__name__}"
    problem = id_problem(c.external_id)
    if problem is None and c.op not in OPS:
        problem = f"op must be one of {', '.join(OPS)}, got {c.op!r:.40}"
    if problem is None and not label_ok(c.object_type):
        problem = text_problem(c.object_type, "object type", MAX_TYPE_LENGTH)
    if problem is None and c.content_hash is not None:
        problem = text_problem(c.content_hash, "content hash", 64)
    if problem is None:
        try:
            c._text = payload_text(c.payload)
        except ValueError as exc:
            problem = str(exc)
    return problem
