"""User-defined fields: their definitions (the ``UserFieldsMD`` entity set, table CUFD) and the
``U_<Name>`` properties they add to the entity sets.

A definition names a SAP table (``TableName``). The tables the emulator serves, and which
entity set (and which collection of it) each one feeds, are in ``TABLE_GROUPS``. As on a real
server, a field declared on one marketing-document table is created on all of them: a field
on ``ORDR`` or ``OINV`` appears on Orders and Invoices (one ``UserFieldsMD`` row per table),
a field on ``RDR1`` or ``INV1`` on the lines of both.

Definitions given in a seed are active at once (the company as it is when the server starts).
Definitions posted to ``/UserFieldsMD`` are stored at once (``GET /UserFieldsMD`` lists them)
but, as on a real Service Layer, become properties of the entity sets only after a restart:
of the emulator process, or ``POST /emulator/restart``.
"""

from __future__ import annotations

import copy
import dataclasses
import re

from .collection_members import duplicate_entry
from .errors import ServiceLayerError, bad_request
from .schema import ENTITY_SETS, USER_FIELDS_MD, EntitySet, Field
from .store import EntityStore
from .values import coerce, coerce_fields, defaults, line_defaults

# (tables sharing their user fields, entity sets they feed, collection property or None)
TABLE_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], str | None], ...] = (
    (("OCRD",), ("BusinessPartners",), None),
    (("CRD1",), ("BusinessPartners",), "BPAddresses"),
    (("OITM",), ("Items",), None),
    (("ORDR", "ODLN", "OINV"), ("Orders", "DeliveryNotes", "Invoices"), None),
    (("RDR1", "DLN1", "INV1"), ("Orders", "DeliveryNotes", "Invoices"), "DocumentLines"),
    (("ORCT",), ("IncomingPayments",), None),
    (("RCT2",), ("IncomingPayments",), "PaymentInvoices"),
)
GROUP_OF = {table: group for group in TABLE_GROUPS for table in group[0]}
FIELD_KINDS = {"db_Alpha": "str", "db_Memo": "str", "db_Numeric": "int", "db_Float": "float",
               "db_Date": "date"}
SIZE_RANGES = {"db_Alpha": (1, 254, 10), "db_Numeric": (1, 11, 11)}  # (lowest, highest, default)
SUB_TYPES = {
    "db_Alpha": {"st_None", "st_Address", "st_Phone", "st_Link", "st_Image"},
    "db_Memo": {"st_None", "st_Link"},
    "db_Numeric": {"st_None"},
    "db_Date": {"st_None", "st_Time"},
    "db_Float": {"st_None", "st_Rate", "st_Sum", "st_Price", "st_Quantity", "st_Percentage",
                 "st_Measurement"},
}
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
TYPE_NAME = USER_FIELDS_MD.type_name


def row_key(table: str, field_id: int) -> str:
    return f"{table},{field_id:06d}"


def field_of(row: dict) -> Field:
    """The property a ``UserFieldsMD`` row adds (``U_<Name>``)."""
    kind = FIELD_KINDS[row["Type"]]
    if kind == "date" and row.get("SubType") == "st_Time":
        kind = "time"
    size = (row.get("EditSize") or row.get("Size")) if row["Type"] == "db_Alpha" else None
    valid = tuple((v.get("Value"), v.get("Description")) for v in row.get("ValidValuesMD") or ())
    f = Field("U_" + row["Name"], kind, size=size, valid_values=valid)
    default = row.get("DefaultValue")
    if default not in (None, ""):
        value = _typed(kind, default)
        f = dataclasses.replace(f, default=value)
    return f


def _typed(kind: str, text: str) -> object:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise bad_request(f"Invalid DefaultValue '{text}' for a numeric field", "-5002") from None
    return text


class UserFields:
    """The active user-defined fields of one emulator, and the entity sets extended by them."""

    def __init__(self, store: EntityStore) -> None:
        self.store = store
        self._built_for: tuple | None = None
        self._signature: tuple = ()
        self._sets: dict[str, EntitySet] = dict(ENTITY_SETS)

    # reading ---------------------------------------------------------------
    def rows(self) -> list[dict]:
        table = self.store.tables[USER_FIELDS_MD.name]
        return [table[k] for k in self.store.sorted_keys(USER_FIELDS_MD.name)]

    def entity_set(self, name: str) -> EntitySet:
        """The entity set with its active user fields (rebuilt after definitions change)."""
        self._rebuild_if_needed()
        return self._sets[name]

    def entity_sets(self) -> dict[str, EntitySet]:
        self._rebuild_if_needed()
        return self._sets

    def _rebuild_if_needed(self) -> None:
        version = self.store.versions[USER_FIELDS_MD.name]
        if self._built_for == (id(self.store.tables), version):
            return
        active = [r for r in self.rows() if not r.get("__pending")]
        signature = tuple(r["__key"] + ":" + str(r.get("__v")) for r in active)
        self._built_for = (id(self.store.tables), version)
        if signature == self._signature:
            return
        self._signature = signature
        self._sets = _extend(active)
        self.store.fragments.clear()  # rendered entities now carry other properties

    # declaring ---------------------------------------------------------------
    def declare(self, body: object, pending: bool) -> dict:
        """Store a definition (one row per table of its group); returns the row of the table
        named in the request. ``pending`` rows take effect at the next restart."""
        data = coerce_fields(USER_FIELDS_MD.by_name, body, TYPE_NAME)
        table = data.get("TableName")
        name = data.get("Name")
        if not table:
            raise bad_request("Enter a value for 'TableName' of 'UserFieldMD'", "-5002")
        if table not in GROUP_OF:
            raise bad_request(
                f"Table '{table}' has no user fields in this emulator (supported: "
                f"{', '.join(GROUP_OF)})"
            )
        if not name:
            raise bad_request("Enter a value for 'Name' of 'UserFieldMD'", "-5002")
        if name.startswith("U_") or not NAME_RE.match(name):
            raise bad_request(
                f"Invalid field name '{name}': give the name without the 'U_' prefix "
                "(letters, digits and '_', starting with a letter, up to 50 characters)"
            )
        tables = GROUP_OF[table][0]
        taken = {r["Name"].lower() for r in self.rows() if r["TableName"] in tables}
        if name.lower() in taken:
            raise duplicate_entry()
        row = defaults(USER_FIELDS_MD) | data
        self._check(row)
        out = None
        with self.store.transaction():
            for t in tables:
                field_id = sum(1 for r in self.rows() if r["TableName"] == t)
                record = copy.deepcopy(row) | {"TableName": t, "FieldID": field_id}
                record["__key"] = row_key(t, field_id)
                record["ValidValuesMD"] = [
                    line_defaults(USER_FIELDS_MD.by_name["ValidValuesMD"]) | v
                    for v in record.get("ValidValuesMD") or []
                ]
                if pending:
                    record["__pending"] = True
                self.store.put(USER_FIELDS_MD.name, record["__key"], record, None)
                if t == table:
                    out = record
        return out

    def _check(self, row: dict) -> None:
        kind = row["Type"]
        if row["SubType"] not in SUB_TYPES[kind]:
            raise bad_request(f"Sub-type '{row['SubType']}' is not valid for type '{kind}'",
                              "-5002")
        size = row.get("Size") or row.get("EditSize")
        if kind in SIZE_RANGES:
            low, high, default = SIZE_RANGES[kind]
            size = default if size is None else size
            if not low <= size <= high:
                raise bad_request(f"Field size deviates from legal range [{low}..{high}]", "-5002")
        row["Size"] = row["EditSize"] = size
        values = [v.get("Value") for v in row.get("ValidValuesMD") or []]
        if any(not v for v in values) or len(set(values)) != len(values):
            raise bad_request("ValidValuesMD: every valid value needs a unique, non-empty 'Value'",
                              "-5002")
        if row.get("Mandatory") == "tYES" and row.get("DefaultValue") in (None, ""):
            raise bad_request("A default value must be defined for a mandatory field", "-5002")
        f = field_of(row)
        if f.default is not None:  # the default must be a value the field accepts
            coerce(f, f.default, TYPE_NAME)

    def activate(self) -> int:
        """Make the pending definitions effective (what a restart does); returns how many."""
        pending = [r for r in self.rows() if r.get("__pending")]
        with self.store.transaction():
            for row in pending:
                fresh = {k: v for k, v in row.items() if k != "__pending"}
                self.store.put(USER_FIELDS_MD.name, row["__key"], fresh, None)
        return len(pending)


def _extend(rows: list[dict]) -> dict[str, EntitySet]:
    header: dict[str, list[Field]] = {}
    lines: dict[tuple[str, str], list[Field]] = {}
    seen: set[tuple[int, str]] = set()
    for row in rows:
        group = GROUP_OF.get(row["TableName"])
        if group is None or (id(group), row["Name"]) in seen:
            continue  # one definition per group (ORDR and OINV rows describe one field)
        seen.add((id(group), row["Name"]))
        f = field_of(row)
        _, sets, collection = group
        for set_name in sets:
            if collection is None:
                header.setdefault(set_name, []).append(f)
            else:
                lines.setdefault((set_name, collection), []).append(f)
    out: dict[str, EntitySet] = {}
    for name, es in ENTITY_SETS.items():
        extra = header.get(name, [])
        changed = bool(extra)
        fields = []
        for f in es.fields:
            more = lines.get((name, f.name))
            if more:
                f = dataclasses.replace(f, lines=f.lines + tuple(more))
                changed = True
            fields.append(f)
        out[name] = dataclasses.replace(es, fields=(*fields, *extra)) if changed else es
    return out


def check_key_parts(es: EntitySet, parts: dict[str, str]) -> str:
    """The stored key of a ``UserFieldsMD`` row from ``TableName='OCRD',FieldID=0``."""
    if set(parts) != set(es.key_parts):
        raise bad_request(f"Invalid key for '{es.name}': expected "
                          f"{', '.join(es.key_parts)}")
    table, field_id = parts["TableName"], parts["FieldID"]
    if not (len(table) >= 2 and table[0] == table[-1] == "'") or not field_id.isdigit():
        raise bad_request(f"Invalid key value for '{es.name}'")
    return row_key(table[1:-1].replace("''", "'"), int(field_id))


def unsupported(method: str) -> ServiceLayerError:
    return bad_request(f"{method} of UserFieldsMD is not supported by the emulator: declare "
                       "fields with POST or in the seed")

