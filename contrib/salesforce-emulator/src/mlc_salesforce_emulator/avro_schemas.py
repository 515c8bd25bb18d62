"""Avro schemas for change events and platform events, and their ids."""

from __future__ import annotations

import base64
import hashlib
import json

from .catalog import ObjectDef

NAMESPACE = "com.sforce.eventbus"
CHANGE_TYPES = ["CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE",
                "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"]
SKIPPED_FIELDS = {"Id", "IsDeleted", "SystemModstamp"}

HEADER_SCHEMA = {
    "type": "record", "name": "ChangeEventHeader", "namespace": NAMESPACE,
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": {"type": "array", "items": "string"}},
        {"name": "changeType", "type": {"type": "enum", "name": "ChangeType",
                                        "namespace": NAMESPACE, "symbols": CHANGE_TYPES}},
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
        {"name": "diffFields", "type": {"type": "array", "items": "string"}},
        {"name": "changedFields", "type": {"type": "array", "items": "string"}},
    ],
}


def avro_type(ftype: str):
    if ftype == "boolean":
        return "boolean"
    if ftype in ("double", "currency", "percent"):
        return "double"
    if ftype == "int":
        return "int"
    if ftype == "date":
        return {"type": "int", "logicalType": "date"}
    if ftype == "datetime":
        return "long"
    return "string"


def schema_id_of(schema: dict) -> str:
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()[:16]).decode().rstrip("=")


def change_event_fields(odef: ObjectDef) -> list[str]:
    """Top-level field names of the change event schema, after the header (position 1...)."""
    return [f.name for f in odef.fields.values()
            if f.name not in SKIPPED_FIELDS and not f.compound_of]


COMPOUND_RECORDS = {"address": "Address", "string": "Switchable_PersonName"}


def _compound_record(odef: ObjectDef, fdef) -> dict:
    """The nested record of a compound field (``Address``, a contact's ``Name``)."""
    return {"type": "record", "name": COMPOUND_RECORDS[fdef.type], "namespace": NAMESPACE,
            "fields": [{"name": sub, "type": ["null", avro_type(odef.fields[part].type)],
                        "default": None}
                       for sub, part in zip(fdef.component_names, fdef.components,
                                            strict=True)]}


def change_event_schema(odef: ObjectDef) -> dict:
    fields: list[dict] = [{"name": "ChangeEventHeader", "type": HEADER_SCHEMA,
                           "doc": "Data:ChangeEventHeader"}]
    defined: set[str] = set()
    for name in change_event_fields(odef):
        fdef = odef.fields[name]
        if fdef.components:
            record = _compound_record(odef, fdef)
            ftype = record["name"] if record["name"] in defined else record
            defined.add(record["name"])
        else:
            ftype = avro_type(fdef.type)
        fields.append({"name": name, "type": ["null", ftype], "default": None,
                       "doc": f"Data:{fdef.type}"})
    return {"type": "record", "name": f"{odef.name}ChangeEvent", "namespace": NAMESPACE,
            "fields": fields}


def platform_event_schema(name: str, specs: list[dict]) -> dict:
    fields: list[dict] = [
        {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
        {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
    ]
    for spec in specs:
        fields.append({"name": spec["name"], "type": ["null", avro_type(spec.get("type",
                                                                                  "string"))],
                       "default": None})
    return {"type": "record", "name": name, "namespace": NAMESPACE, "fields": fields}


def bitmap(positions) -> str | None:
    """``0x`` and whole bytes of hex, most significant first; bit i marks position i.

    The official decoders read the digits in pairs, so the length is always even."""
    mask = 0
    for p in positions:
        mask |= 1 << p
    if not mask:
        return None
    width = (mask.bit_length() + 7) // 8 * 2
    return f"0x{mask:0{width}X}"
