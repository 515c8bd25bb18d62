"""Change event payloads: Avro binary decoded with writer schemas fetched by id and cached.

``changedFields`` and ``nulledFields`` are bitmaps: element 0 is a hex string (whole bytes)
whose bit i, least significant first, marks top-level schema field i (field 0 is the
``ChangeEventHeader``); further elements ``"<pos>-0x<hex>"`` mark sub-fields of the compound
field at position ``pos`` (``BillingAddress``, ``Name``).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any

import fastavro


class SchemaCache:
    """Parsed writer schemas by schema id; ``fetch(id)`` returns the schema's JSON text."""

    def __init__(self, fetch: Callable[[str], str]) -> None:
        self.fetch = fetch
        self._schemas: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def get(self, schema_id: str) -> Any:
        schema = self._schemas.get(schema_id)
        if schema is None:
            with self._lock:
                schema = self._schemas.get(schema_id)
                if schema is None:
                    text = self.fetch(schema_id)
                    self.fetches += 1
                    schema = fastavro.parse_schema(json.loads(text))
                    self._schemas[schema_id] = schema
        return schema

    def decode(self, schema_id: str, payload: bytes) -> dict[str, Any]:
        schema = self.get(schema_id)
        return fastavro.schemaless_reader(io.BytesIO(payload), schema, None)


def _bits(hex_text: str) -> list[int]:
    text = hex_text[2:] if hex_text.lower().startswith("0x") else hex_text
    if not text:
        return []
    number = int(text, 16)
    return [i for i in range(number.bit_length()) if number >> i & 1]


def field_names(schema: Any, bitmap: list[str] | None) -> list[str]:
    """The field names a ``changedFields``/``nulledFields`` bitmap marks (``A.B`` for
    sub-fields of compound fields)."""
    if not bitmap:
        return []
    fields = schema["fields"]
    named = _named_records(schema, {})
    names: list[str] = []
    for element in bitmap:
        if "-" in element:
            pos_text, hex_text = element.split("-", 1)
            parent = fields[int(pos_text)]
            inner = _record_of(parent["type"], named)
            if inner is None:
                continue
            sub = inner["fields"]
            names += [f"{parent['name']}.{sub[i]['name']}" for i in _bits(hex_text) if i < len(sub)]
        else:
            names += [fields[i]["name"] for i in _bits(element) if 0 < i < len(fields)]
    return names


def _named_records(avro_type: Any, out: dict[str, dict]) -> dict[str, dict]:
    if isinstance(avro_type, dict):
        if avro_type.get("type") == "record":
            name = avro_type.get("name", "")
            out[name] = avro_type
            out[name.rsplit(".", 1)[-1]] = avro_type
            for f in avro_type.get("fields", []):
                _named_records(f["type"], out)
    elif isinstance(avro_type, list):
        for t in avro_type:
            _named_records(t, out)
    return out


def _record_of(avro_type: Any, named: dict[str, dict]) -> dict | None:
    if isinstance(avro_type, str):
        return named.get(avro_type) or named.get(avro_type.rsplit(".", 1)[-1])
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        return avro_type
    if isinstance(avro_type, list):
        for t in avro_type:
            found = _record_of(t, named)
            if found is not None:
                return found
    return None
