"""In-memory entity tables with atomic transactions, ETags and a query result cache."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .schema import ENTITY_SETS

log = logging.getLogger(__name__)

Event = tuple[str, object, str]  # (entity set, key, "Create" | "Update" | "Delete")


class EntityStore:
    """All entity records, keyed per entity set.

    Records are never changed in place: a write stores a new dict, so a transaction can be
    rolled back by putting the previous objects back. Webhook events of a transaction are
    published only when it commits.
    """

    def __init__(self) -> None:
        self.tables: dict[str, dict] = {name: {} for name in ENTITY_SETS}
        self.next_keys: dict[str, int] = {name: 1 for name in ENTITY_SETS}
        self.next_numbers: dict[str, int] = {name: 1 for name in ENTITY_SETS}
        self.versions: dict[str, int] = {name: 0 for name in ENTITY_SETS}
        self.seq = 0
        self._sorted: dict[str, tuple[int, list]] = {}
        self._key_versions: dict[str, int] = {name: 0 for name in ENTITY_SETS}
        self._cache: OrderedDict = OrderedDict()
        self.fragments: dict = {}  # rendered JSON per record version (see ServiceLayer)
        self._journal: list | None = None
        self._events: list[Event] = []
        self._depth = 0
        self.on_commit: Callable[[list[Event]], None] | None = None

    # reads -------------------------------------------------------------------
    def get(self, set_name: str, key: object) -> dict | None:
        return self.tables[set_name].get(key)

    def count(self, set_name: str) -> int:
        return len(self.tables[set_name])

    def sorted_keys(self, set_name: str) -> list:
        version = self._key_versions[set_name]
        cached = self._sorted.get(set_name)
        if cached and cached[0] == version:
            return cached[1]
        keys = sorted(self.tables[set_name])
        self._sorted[set_name] = (version, keys)
        return keys

    def cached_query(self, set_name: str, cache_key: tuple, compute: Callable[[], list]) -> list:
        """A query's matching keys, recomputed only after a write to the entity set."""
        full = (set_name, self.versions[set_name], *cache_key)
        hit = self._cache.get(full)
        if hit is not None:
            self._cache.move_to_end(full)
            return hit
        result = compute()
        self._cache[full] = result
        while len(self._cache) > 64:
            self._cache.popitem(last=False)
        return result

    @staticmethod
    def etag(record: dict) -> str:
        """The ETag of a whole entity: ``W/"<40 hex>"`` as real servers send."""
        digest = hashlib.sha1(f"v{record.get('__v', 0)}".encode()).hexdigest()
        return f'W/"{digest}"'

    @staticmethod
    def partial_etag(record: dict, select: list[str]) -> str:
        """The body ETag of a read with ``$select``: it looks like an ETag but, as on a real
        server, never matches ``If-Match`` (read the whole entity before an update)."""
        text = f"v{record.get('__v', 0)}|" + ",".join(select)
        return f'W/"{hashlib.sha1(text.encode()).hexdigest()}"'

    # writes ------------------------------------------------------------------
    def allocate(self, set_name: str) -> tuple[int, int]:
        """A new (DocEntry, DocNum) pair for a document-like entity set."""
        self._note(("counter", set_name, self.next_keys[set_name], self.next_numbers[set_name]))
        key, num = self.next_keys[set_name], self.next_numbers[set_name]
        self.next_keys[set_name] += 1
        self.next_numbers[set_name] += 1
        return key, num

    def put(self, set_name: str, key: object, record: dict, event: str | None) -> dict:
        table = self.tables[set_name]
        old = table.get(key)
        self._note(("row", set_name, key, old))
        self.seq += 1
        record["__v"] = self.seq
        table[key] = record
        self.versions[set_name] += 1
        if old is None:
            self._key_versions[set_name] += 1
        if event:
            self._events.append((set_name, key, event))
        return record

    def delete(self, set_name: str, key: object) -> None:
        old = self.tables[set_name].pop(key)
        self._note(("row", set_name, key, old))
        self.versions[set_name] += 1
        self._key_versions[set_name] += 1
        self._events.append((set_name, key, "Delete"))

    def _note(self, entry: tuple) -> None:
        if self._journal is not None:
            self._journal.append(entry)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nesting joins the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._journal, self._events, self._depth = [], [], 1
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            events = self._events
            self._events = []
            if events and self.on_commit:
                self.on_commit(events)
        finally:
            self._journal, self._depth = None, 0

    def _rollback(self) -> None:
        for entry in reversed(self._journal or []):
            if entry[0] == "counter":
                _, name, key, num = entry
                self.next_keys[name], self.next_numbers[name] = key, num
                continue
            _, name, key, old = entry
            table = self.tables[name]
            if old is None:
                table.pop(key, None)
            else:
                table[key] = old
            self.versions[name] += 1
            self._key_versions[name] += 1
        self._events = []

    # persistence -------------------------------------------------------------
    def dump(self) -> dict:
        return {
            "tables": {name: list(t.values()) for name, t in self.tables.items()},
            "next_keys": self.next_keys,
            "next_numbers": self.next_numbers,
            "seq": self.seq,
        }

    def load(self, data: dict) -> None:
        for name, rows in data.get("tables", {}).items():
            if name not in ENTITY_SETS:
                continue
            key = ENTITY_SETS[name].key
            self.tables[name] = {row[key]: row for row in rows}
            self.versions[name] += 1
            self._key_versions[name] += 1
        self.next_keys.update(data.get("next_keys", {}))
        self.next_numbers.update(data.get("next_numbers", {}))
        self.seq = data.get("seq", self.seq)


def save_json(path: Path, data: dict) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"))
    os.replace(tmp, path)
    log.info("state saved to %s", path)
