"""What plugins implement: sources, sinks, matchers and mappings, and the data they exchange.

A plugin contributes classes (see ``hub.hookspecs``); the core instantiates one per flow with a
:class:`ComponentContext` and the flow's validated options. The data path is::

    Source.read() -> ChangeBatch -> store (inbox + checkpoint, one transaction)
      -> Matcher.match_batch() -> Mapping.map() -> Sink.write() -> link + audit (one transaction)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .settings import Schema


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of ``payload``: the hub's notion of "the same content"."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@dataclass
class Change:
    """One change read from a source system.

    ``external_id`` is the record's id in the source system: a non-empty string of at most 255
    characters, without NUL. ``payload`` is a JSON object of JSON values (no dates, sets or NaN:
    convert them). ``content_hash`` defaults to the hash of ``payload``; a source may set it to a
    hash over only the fields a reverse flow writes, so the hub recognises its own writes coming
    back. ``op`` is ``"upsert"`` or ``"delete"``. The core checks all of this when it stores the
    change; a change that fails is stored parked with its reason and never blocks the others.
    """

    external_id: str
    payload: dict[str, Any]
    object_type: str | None = None
    op: str = "upsert"
    content_hash: str | None = None
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def hash(self) -> str:
        return self.encoded()[1]

    def encoded(self) -> tuple[str, str]:
        """The payload as canonical JSON, and the content hash: encoded once, used twice."""
        if self._text is None:
            self._text = canonical_json(self.payload)
        text = self._text
        if self.content_hash is None:
            self.content_hash = hashlib.sha256(text.encode()).hexdigest()
        return text, self.content_hash


@dataclass
class ChangeBatch:
    """Changes and the checkpoint to store once they are safely in the inbox.

    The core writes the changes and the checkpoint in ONE transaction. ``checkpoint`` is opaque
    to the core (a watermark, a replay id, a cursor); ``None`` leaves it unchanged.
    """

    changes: list[Change]
    checkpoint: str | None = None


@dataclass
class Record:
    """A change as stored in the inbox, handed to matchers, mappings, sinks and broadcast hooks."""

    id: int
    flow: str
    source: str
    system: str
    object_type: str
    external_id: str
    op: str
    payload: dict[str, Any]
    content_hash: str
    status: str
    attempts: int

    @property
    def ref(self) -> str:
        """How messages name the record: ``flow/object_type/external_id (#id)``."""
        return f"{self.flow}/{self.object_type}/{self.external_id} (#{self.id})"


@dataclass
class SinkItem:
    """One record ready to be written: the mapped payload and, if linked, the target's id."""

    record: Record
    payload: dict[str, Any]
    target_id: str | None = None
    match: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteResult:
    """What a sink did with one item.

    ``target_id`` is the id of the written record in the target system (stored in the link).
    ``summary`` is a short, non-secret description of the call (method, path, status, ids); the
    core redacts it again before it reaches the audit store. Set ``error`` to a
    ``RecordError`` or ``RetriableError`` (or any exception) when this item failed.
    """

    target_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass
class TargetField:
    """A field of the object a sink writes, as the target system describes it.

    ``length`` is the longest text the field takes (``None``: not a text field, or unknown);
    ``fields`` are the members of a collection or complex field (document lines), if known;
    ``writable`` is ``False`` for a field that exists but that this sink cannot or will not
    write (Salesforce: neither ``createable`` nor ``updateable`` for the integration user), so
    a mapping naming it is told "read-only" rather than "no such field".
    """

    name: str
    length: int | None = None
    fields: dict[str, TargetField] | None = None
    writable: bool = True


@dataclass
class Check:
    """One result of ``hub ping``."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class ComponentContext:
    """What the core gives a component: its plugin's resolved settings and the flow it serves.

    ``state`` is the plugin's :class:`hub.plugin_state.PluginState` (values kept across
    restarts, encrypted with the vault key); ``None`` where the hub has no store.
    """

    flow: str
    plugin: str
    settings: dict[str, Any]
    stopping: threading.Event
    logger: logging.Logger
    state: Any = None


class Component:
    """Base of every contributed class.

    ``name`` is how a flow refers to it (``"<plugin>.<thing>"`` by convention); ``options`` is
    the schema of its per-flow options (``[flows.NAME.source_options]`` etc.).
    """

    name: ClassVar[str] = ""
    options: ClassVar[Schema] = {}

    def __init__(self, context: ComponentContext, options: dict[str, Any]) -> None:
        self.context = context
        self.opts = options
        self.log = context.logger

    def open(self) -> None:  # noqa: B027 - optional hook
        """Called once before first use (log in, open connections)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Called once when the flow stops."""


class Source(Component):
    """Reads changes from a system. ``system`` and ``object_type`` label what it reads."""

    system: ClassVar[str] = ""
    object_type: ClassVar[str] = ""

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        """Yield batches of changes after ``checkpoint`` (``None``: from the beginning).

        A polling source yields what is new and returns; the core calls it again after the
        flow's ``poll_interval``. A streaming source may block, but must return soon after
        ``self.context.stopping`` is set. Yield batches lazily: never load everything at once.
        """
        raise NotImplementedError


class Matcher(Component):
    """Finds the counterpart of a record in the target system (e.g. Account number -> CardCode)."""

    def match(self, record: Record) -> dict[str, Any]:
        """Return what the mapping needs to know (e.g. ``{"CardCode": "C20000"}``).

        Raise ``RecordError(field=...)`` when no counterpart exists and none may be created,
        ``RetriableError`` when the lookup failed transiently.
        """
        raise NotImplementedError

    def match_batch(self, records: list[Record]) -> list[dict[str, Any] | BaseException]:
        """Match a whole batch: one result per record, in order.

        A result is what ``match`` returns, or the exception instance for a record that failed
        (``RecordError``, ``RetriableError``...). The core calls this once per batch (processing
        and ``--dry-run``); override it to look the batch up with one request. Raising fails
        every record of the batch with that error. The default calls ``match`` per record.
        """
        results: list[dict[str, Any] | BaseException] = []
        for record in records:
            try:
                results.append(self.match(record))
            except Exception as exc:
                results.append(exc)
        return results


class Mapping(Component):
    """Turns a source record (and its match) into the payload the sink writes."""

    def map(self, record: Record, match: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class IdentityMapping(Mapping):
    """The default mapping: the payload as received, with the match merged in."""

    name = "identity"

    def map(self, record: Record, match: dict[str, Any]) -> dict[str, Any]:
        return {**record.payload, **match} if match else record.payload


class Sink(Component):
    """Writes mapped records to a system. Writes must be idempotent (upsert by external id)."""

    system: ClassVar[str] = ""
    object_type: ClassVar[str] = ""
    batch_size: ClassVar[int] = 50

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        """Write ``items``; return a list of one ``WriteResult`` per item, in the same order.

        Raising instead fails the whole batch (``RetriableError`` retries all of it). Anything
        else (``None``, a wrong count, a target id over 255 characters) counts as a failed
        attempt of the records concerned.
        """
        raise NotImplementedError

    def target_fields(self) -> dict[str, TargetField] | None:
        """The fields of the object this sink writes, read from the target system (``$metadata``,
        describe) after ``open()``, as ``{name: TargetField}``; ``None`` when the sink cannot
        tell (then nothing is checked). A declarative mapping checks the fields it names
        against this at start-up and ``hub ping``: a missing field, or one marked
        ``writable=False``, stops the hub naming the flow and the field. Read the target's
        description once per connection and cache it: every flow writing there asks."""
        return None

    def plan(self, item: SinkItem) -> dict[str, Any]:
        """For ``--dry-run``: describe what ``write`` would do with ``item``, doing nothing.

        Called on a sink that was not opened: it must need no connection and create nothing.
        """
        action = "update" if item.target_id else "create"
        return {"action": action, "target_id": item.target_id, "payload": item.payload}
