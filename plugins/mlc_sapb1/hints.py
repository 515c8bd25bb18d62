"""Hints: entities the webhook receiver was told about, kept in the plugin's state until a
poller has read them again. A hint is ``hint/<EntitySet>/<key>``; duplicates collapse."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

PREFIX = "hint/"


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
