"""In-memory record storage with unique/external-id indexes and id counters."""

from __future__ import annotations

from collections.abc import Iterator

from .catalog import ObjectDef
from .record_ids import make_id


def index_key(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).lower()


class RecordStore:
    """Records per object, keyed by 18-character id; deleted records stay (IsDeleted)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict]] = {}
        self.counters: dict[str, int] = {}
        self.indexes: dict[tuple[str, str], dict[str, set[str]]] = {}

    # ids -------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return make_id(prefix, n)

    def next_number(self, name: str) -> int:
        n = self.counters.get(name, 0) + 1
        self.counters[name] = n
        return n

    # access ----------------------------------------------------------------
    def table(self, obj: str) -> dict[str, dict]:
        return self.tables.setdefault(obj, {})

    def get(self, obj: str, rid: str) -> dict | None:
        return self.tables.get(obj, {}).get(rid)

    def live(self, obj: str) -> Iterator[dict]:
        return (r for r in self.tables.get(obj, {}).values() if not r.get("IsDeleted"))

    def find_by(self, obj: str, field: str, value) -> list[str]:
        """Ids of live records whose indexed ``field`` equals ``value`` (case-insensitive)."""
        idx = self.indexes.get((obj, field))
        if idx is None:
            raise KeyError(field)
        return sorted(idx.get(index_key(value), ()))

    # indexes ---------------------------------------------------------------
    def rebuild_indexes(self, catalog: dict[str, ObjectDef]) -> None:
        self.indexes = {}
        for obj in catalog.values():
            for f in obj.fields.values():
                if f.external_id or f.unique:
                    self.indexes[(obj.name, f.name)] = {}
        for obj_name, table in self.tables.items():
            for rec in table.values():
                self._index(obj_name, rec, add=True)

    def _index(self, obj: str, rec: dict, add: bool) -> None:
        if rec.get("IsDeleted"):
            return
        for (o, fname), idx in self.indexes.items():
            if o != obj:
                continue
            key = index_key(rec.get(fname))
            if key is None:
                continue
            if add:
                idx.setdefault(key, set()).add(rec["Id"])
            else:
                ids = idx.get(key)
                if ids:
                    ids.discard(rec["Id"])
                    if not ids:
                        del idx[key]

    def put(self, obj: str, rec: dict | None, rid: str) -> dict | None:
        """Store ``rec`` under ``rid`` (None removes it); return the previous record."""
        table = self.table(obj)
        old = table.get(rid)
        if old is not None:
            self._index(obj, old, add=False)
        if rec is None:
            table.pop(rid, None)
        else:
            table[rid] = rec
            self._index(obj, rec, add=True)
        return old

    # persistence -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"tables": self.tables, "counters": self.counters}

    def load_dict(self, data: dict) -> None:
        self.tables = {k: dict(v) for k, v in data.get("tables", {}).items()}
        self.counters = dict(data.get("counters", {}))
