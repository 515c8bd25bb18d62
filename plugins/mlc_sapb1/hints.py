"""Hints: entities the webhook receiver was told about, kept in the plugin's state until a
poller has read them again. A hint is ``hint/<EntitySet>/<key>``; duplicates collapse."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

PREFIX = "hint/"
MAX_DOC_ENTRY = 2**31 - 1  # DocEntry is an Edm.Int32
MAX_CARD_CODE = 15  # OCRD.CardCode is nvarchar(15)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def key_ok(key_field: str, key: str) -> bool:
    """Whether a Service Layer could hold ``key`` in ``key_field``: a DocEntry is a positive
    32-bit number written plainly, a CardCode 1 to 15 characters without control characters.
    Any other key came from a broken or hostile sender and is never queried."""
    if key_field == "DocEntry":
        return (
            key.isascii()
            and key.isdigit()
            and not key.startswith("0")
            and (int(key) <= MAX_DOC_ENTRY)
        )
    return 0 < len(key) <= MAX_CARD_CODE and key.strip() == key and not _CONTROL.search(key)


def add_hints(state: Any, hints: list[tuple[str, str]]) -> int:
    """Keep ``(entity_set, key)`` hints in one transaction; returns how many were given."""
    now = str(time.time())
    values = {f"{PREFIX}{entity}/{key}": now for entity, key in hints}
    if values:
        state.set_many(values)
    return len(values)


@dataclass
class PendingHints:
    state: Any
    entity_set: str
    pending: list[str]

    def done(self, keys: list[str]) -> None:
        self.state.delete(*(f"{PREFIX}{self.entity_set}/{k}" for k in keys))


def drain_hints(state: Any, entity_set: str) -> PendingHints:
    prefix = f"{PREFIX}{entity_set}/"
    keys = [k[len(prefix) :] for k in state.keys(prefix)]
    return PendingHints(state, entity_set, keys)
