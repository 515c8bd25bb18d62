"""Members of collection properties (document lines, addresses, contact persons): numbering
on create and the append-or-update rule of a PATCH."""

from __future__ import annotations

from .errors import ServiceLayerError
from .schema import COLLECTION_KEYS, COLLECTION_UNIQUE, Field
from .store import EntityStore
from .values import line_defaults

DUPLICATE = "This entry already exists in the following tables (ODBC -2035)"
ASSIGNED = {"LineNum", "RowNum", "BPCode", "InternalCode"}  # numbered by the server


def duplicate_entry() -> ServiceLayerError:
    return ServiceLayerError(400, "-2035", DUPLICATE)


def _internal_code(store: EntityStore) -> int:
    """A new contact person code, unique in the company."""
    store.next_keys.setdefault("ContactEmployees", 1)
    store.next_numbers.setdefault("ContactEmployees", 1)
    return store.allocate("ContactEmployees")[0]


def _number(store: EntityStore, member: dict, position: int, owner: object) -> None:
    if "LineNum" in member:
        member["LineNum"] = position
    if "RowNum" in member:
        member["RowNum"] = position
    if "BPCode" in member:
        member["BPCode"] = owner
    if "InternalCode" in member:
        member["CardCode"] = owner
        member["InternalCode"] = _internal_code(store)


def _check_unique(f: Field, members: list[dict], candidate: dict) -> None:
    unique = COLLECTION_UNIQUE.get(f.name)
    if unique and any(all(m.get(u) == candidate.get(u) for u in unique) for m in members):
        raise duplicate_entry()


def fill(store: EntityStore, f: Field, members: list[dict], owner: object) -> list[dict]:
    """The members of a new (or wholly replaced) collection, with defaults and numbers."""
    out: list[dict] = []
    for i, member in enumerate(members):
        full = line_defaults(f) | {k: v for k, v in member.items() if k not in ASSIGNED}
        _check_unique(f, out, full)
        _number(store, full, i, owner)
        out.append(full)
    return out


def merge(store: EntityStore, f: Field, current: list[dict], sent: list[dict], owner: object,
          mark_changed: bool) -> list[dict]:
    """A PATCH of a collection: members carrying their full key are updated in place, the
    others appended (refused when they repeat an existing member)."""
    keys = COLLECTION_KEYS[f.name]
    members = [dict(m) for m in current]
    for item in sent:
        match = None
        if all(item.get(k) is not None for k in keys):
            match = next((m for m in members if all(m.get(k) == item[k] for k in keys)), None)
        if match is not None:
            match.update({k: v for k, v in item.items() if k not in keys})
        else:
            match = line_defaults(f) | {k: v for k, v in item.items() if k not in ASSIGNED}
            _check_unique(f, members, match)
            position = max((m.get("LineNum", m.get("RowNum", -1)) or 0 for m in members),
                           default=-1) + 1
            _number(store, match, position, owner)
            members.append(match)
        if mark_changed:
            match["__changed"] = True
    return members
