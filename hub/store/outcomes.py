"""What the engine hands the store to commit: a record's outcome, its link and audit events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..components import Record


@dataclass
class Event:
    """An audit event waiting to be written with its record's outcome."""

    step: str
    duration_ms: float | None = None
    summary: dict[str, Any] | None = None


@dataclass
class LinkWrite:
    target_system: str
    target_type: str
    target_id: str
    last_hash: str


@dataclass
class Outcome:
    """The result of processing one record, committed with its link and audit events."""

    record: Record
    status: str
    attempts: int
    next_attempt_at: float | None = None
    last_error: str | None = None
    link: LinkWrite | None = None
    events: list[Event] = field(default_factory=list)


@dataclass
class LinkInfo:
    """What the engine needs of a link: the target's id and the hash last written there."""

    target_id: str
    last_hash: str
    record_id: int | None = None  # the inbox record last written through the link
