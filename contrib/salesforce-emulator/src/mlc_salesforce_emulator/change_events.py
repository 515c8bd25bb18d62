"""Change Data Capture: turning committed changes into Avro change events on the bus."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import date
from typing import TYPE_CHECKING

import fastavro

from .avro_schemas import (
    bitmap,
    change_event_fields,
    change_event_schema,
    platform_event_schema,
    schema_id_of,
)

if TYPE_CHECKING:
    from .dml import Transaction
    from .org_state import OrgState

log = logging.getLogger(__name__)
ALL_CHANGES = "/data/ChangeEvents"
NO_CHANGE_EVENTS = {"OpportunityLineItem"}  # line items: watch their opportunity


def _bitmaps(top: list[int], subs: dict[int, list[int]]) -> list[str]:
    out = [b for b in [bitmap(top)] if b]
    for pos, bits in subs.items():
        sub = bitmap(bits)
        if sub:
            out.append(f"{pos}-{sub}")
    return out


def topic_for(obj: str) -> str:
    base = obj[:-3] + "__" if obj.endswith("__c") else obj
    return f"/data/{base}ChangeEvent"


class ChangeEventPublisher:
    def __init__(self, org: OrgState) -> None:
        self.org = org
        self.schemas: dict[str, str] = {}
        self.current: dict[str, str] = {}
        self.parsed: dict[str, object] = {}
        self.positions: dict[str, dict[str, int]] = {}
        self.platform_events: dict[str, list[dict]] = {}
        self.commit_number = 10_000_000

    # schemas -------------------------------------------------------------------
    def refresh_schemas(self) -> None:
        for name, odef in self.org.catalog.items():
            schema = change_event_schema(odef)
            self._register(topic_for(name), schema)
            self.positions[name] = {f: i + 1 for i, f in enumerate(change_event_fields(odef))}
        for name, specs in self.platform_events.items():
            self._register(f"/event/{name}", platform_event_schema(name, specs))

    def _register(self, topic: str, schema: dict) -> str:
        sid = schema_id_of(schema)
        if sid not in self.schemas:
            self.schemas[sid] = json.dumps(schema, separators=(",", ":"))
        self.current[topic] = sid
        return sid

    def parsed_schema(self, sid: str):
        found = self.parsed.get(sid)
        if found is None:
            found = self.parsed[sid] = fastavro.parse_schema(json.loads(self.schemas[sid]))
        return found

    def add_platform_event(self, name: str, specs: list[dict]) -> None:
        if not name.endswith("__e"):
            raise ValueError(f"platform event names end in __e: {name!r}")
        self.platform_events[name] = specs
        self.refresh_schemas()

    # topics ----------------------------------------------------------------------
    def cdc_enabled(self, obj: str) -> bool:
        return (obj in self.org.profile.cdc_objects and obj in self.org.catalog
                and obj not in NO_CHANGE_EVENTS)

    def topic_info(self, topic: str) -> dict | None:
        """``{"schema_id", "can_publish"}`` for a topic this org serves, else None."""
        if topic == ALL_CHANGES:
            return {"schema_id": "", "can_publish": False}
        if topic.startswith("/event/") and topic[7:] in self.platform_events:
            return {"schema_id": self.current[topic], "can_publish": True}
        for obj in self.org.profile.cdc_objects:
            if topic_for(obj) == topic and self.cdc_enabled(obj):
                return {"schema_id": self.current[topic], "can_publish": False}
        return None

    # publishing --------------------------------------------------------------------
    def encode(self, sid: str, record: dict) -> bytes:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, self.parsed_schema(sid), record)
        return buf.getvalue()

    def _emit(self, obj: str, record: dict, ts_ms: int) -> None:
        topic = topic_for(obj)
        sid = self.current[topic]
        payload = self.encode(sid, record)
        event_id = str(uuid.uuid4())
        self.org.bus.append(topic, event_id, sid, payload, ts_ms)
        self.org.bus.append(ALL_CHANGES, event_id, sid, payload, ts_ms)

    def _header(self, obj, change_type, record_ids, txn_key, seq, ts, user, origin) -> dict:
        self.commit_number += 1
        return {
            "entityName": obj, "recordIds": record_ids, "changeType": change_type,
            "changeOrigin": origin, "transactionKey": txn_key, "sequenceNumber": seq,
            "commitTimestamp": ts, "commitNumber": self.commit_number, "commitUser": user,
            "nulledFields": [], "diffFields": [], "changedFields": [],
        }

    def publish_transaction(self, txn: Transaction) -> None:
        changes = [c for c in txn.changes if self.cdc_enabled(c.obj)]
        if not changes:
            return
        ts = self.org.clock.now_ms()
        txn_key = str(uuid.uuid4())
        for seq, change in enumerate(changes, start=1):
            header = self._header(change.obj, change.change_type, [change.rid], txn_key, seq,
                                  ts, txn.user_id, txn.origin)
            record = {"ChangeEventHeader": header}
            if change.change_type != "DELETE":
                self._fill_values(change, header, record)
            self._emit(change.obj, record, ts)

    def _fill_values(self, change, header: dict, record: dict) -> None:
        """Field values of a CREATE (all non-null) or UPDATE (changed only, with bitmaps).

        Element 0 of ``changedFields``/``nulledFields`` marks changed non-compound fields; a
        changed sub-field of a compound field (an address, a contact's name) is marked only in
        its parent's own ``"<parentPos>-0x.."`` element."""
        odef = self.org.catalog[change.obj]
        is_update = change.change_type == "UPDATE"
        wanted = set(change.changed) if is_update else None
        changed_pos, nulled_pos = [], []
        changed_subs, nulled_subs = {}, {}
        for name, pos in self.positions[change.obj].items():
            fdef = odef.fields[name]
            if fdef.components:
                parts = fdef.components
                touched = [i for i, p in enumerate(parts) if wanted is None or p in wanted]
                if is_update and not touched:
                    continue
                values = {fdef.component_names[i]: self._avro_value(
                              odef.fields[parts[i]], change.record.get(parts[i]))
                          if i in touched else None for i in range(len(parts))}
                if any(v is not None for v in values.values()) or is_update:
                    record[name] = values
                if is_update:
                    changed_subs[pos] = touched
                    nulled_subs[pos] = [i for i in touched
                                        if change.record.get(parts[i]) is None]
                continue
            if is_update and name not in wanted:
                continue
            value = change.record.get(name)
            if is_update:
                changed_pos.append(pos)
                if value is None:
                    nulled_pos.append(pos)
            if value is not None:
                record[name] = self._avro_value(fdef, value)
        if is_update:
            header["changedFields"] = _bitmaps(changed_pos, changed_subs)
            header["nulledFields"] = _bitmaps(nulled_pos, nulled_subs)

    @staticmethod
    def _avro_value(fdef, value):
        if value is not None and fdef.type == "date":
            return date.fromisoformat(value)
        return value

    def inject_gap(self, obj: str, change_type: str, record_ids: list[str], user_id: str,
                   commit_ts: int | None = None) -> None:
        if not self.cdc_enabled(obj):
            raise ValueError(f"change data capture is not enabled for {obj}")
        if not change_type.startswith("GAP_"):
            raise ValueError(f"not a gap change type: {change_type}")
        ts = commit_ts or self.org.clock.now_ms()
        ids = [] if change_type == "GAP_OVERFLOW" else list(record_ids)
        header = self._header(obj, change_type, ids, str(uuid.uuid4()), 1, ts, user_id, "")
        self._emit(obj, {"ChangeEventHeader": header}, ts)

    def publish_platform_event(self, topic: str, schema_id: str, payload: bytes,
                               event_id: str) -> int:
        if schema_id != self.current.get(topic):
            raise ValueError(f"schema id {schema_id!r} does not match the topic's schema")
        fastavro.schemaless_reader(io.BytesIO(payload), self.parsed_schema(schema_id), None)
        return self.org.bus.append(topic, event_id or str(uuid.uuid4()), schema_id, payload,
                                   self.org.clock.now_ms())

    # persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"schemas": self.schemas, "platform_events": self.platform_events,
                "commit_number": self.commit_number}

    def load_dict(self, data: dict) -> None:
        self.schemas.update(data.get("schemas", {}))
        self.platform_events = data.get("platform_events", {})
        self.commit_number = data.get("commit_number", self.commit_number)
