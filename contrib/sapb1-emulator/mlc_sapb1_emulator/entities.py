"""Creating, updating and deleting entities: validation, stamps, keys and business rules."""

from __future__ import annotations

import copy
import logging
import uuid

from . import collection_members, document_rules
from .clock import EmulatorClock
from .errors import ServiceLayerError, business_error, entity_missing, stale_etag
from .schema import COLLECTION_KEYS, EntitySet
from .store import EntityStore
from .user_fields import UserFields
from .values import coerce_fields, defaults

log = logging.getLogger(__name__)

DUPLICATE_MESSAGES = {
    "BusinessPartners": "1320000140 - Business partner code '{0}' already assigned to a business "
    "partner; enter a unique business partner code",
    "Items": "1470000005 - Item code '{0}' already exists",
}
DOCUMENT_SETS = ("Orders", "DeliveryNotes", "Invoices")
# recorded text (two spaces before the bracket, as the recording shows it)
MISSING_KEY_MESSAGES = {"BusinessPartners": "Code undefined  [OCRD.CardCode]"}


def key_literal(es: EntitySet, key: object) -> str:
    """The key as it appears in the URL, and in the text of a write to a missing key."""
    if isinstance(key, int):
        return str(key)
    return "'" + str(key).replace("'", "''") + "'"


class EntityWriter:
    """All writes to entity sets go through here, inside a store transaction."""

    def __init__(self, store: EntityStore, clock: EmulatorClock, settings: dict,
                 user_fields: UserFields) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.user_fields = user_fields

    # helpers -------------------------------------------------------------------
    def stamp(self, record: dict, created: bool = False) -> None:
        date, time = self.clock.stamp()
        if "UpdateDate" in record:
            record["UpdateDate"], record["UpdateTime"] = date, time
        if not created:
            return
        for date_field, time_field in (("CreateDate", "CreateTime"), ("CreationDate", "DocTime")):
            if date_field in record:
                record[date_field], record[time_field] = date, time

    def today(self) -> str:
        return self.clock.stamp()[0]

    def _fill_lines(self, es: EntitySet, record: dict) -> None:
        for f in es.fields:
            if f.kind == "lines":
                record[f.name] = collection_members.fill(
                    self.store, f, record.get(f.name) or [], record.get(es.key))

    # create --------------------------------------------------------------------
    def create(self, es: EntitySet, body: object) -> dict:
        data = coerce_fields(es.by_name, body, es.type_name)
        with self.store.transaction():
            record = defaults(es) | data
            if es.server_key:
                entry, num = self.store.allocate(es.name)
                record[es.key] = entry
                if "DocNum" in record:
                    record["DocNum"] = num
            else:
                if es.auto_key and not record.get(es.key):
                    record[es.key] = str(uuid.uuid4())
                key = record.get(es.key)
                if not key and es.name in MISSING_KEY_MESSAGES:
                    raise ServiceLayerError(400, "-5002", MISSING_KEY_MESSAGES[es.name])
                if not key:
                    raise business_error(f"Enter a value for '{es.key}'")
                if self.store.get(es.name, key) is not None:
                    msg = DUPLICATE_MESSAGES.get(es.name, "Key '{0}' already exists")
                    raise business_error(msg.format(key))
            self._fill_lines(es, record)
            document_rules.before_create(self, es, record)
            self.stamp(record, created=True)
            self.store.put(es.name, record[es.key], record, "Create")
            document_rules.after_create(self, es, record)
            return record

    # update --------------------------------------------------------------------
    def update(
        self, es: EntitySet, key: object, body: object, if_match: str | None,
        replace: bool = False, replace_lines: bool = False,
    ) -> dict:
        """PATCH (or PUT with ``replace``); ``replace_lines`` replaces document lines instead of
        merging them by LineNum (header ``B1S-ReplaceCollectionsOnPatch: true``)."""
        current = self.store.get(es.name, key)
        if current is None:
            raise entity_missing(key_literal(es, key))
        if if_match and if_match.strip() != "*" and if_match.strip() != self.store.etag(current):
            raise stale_etag()
        data = coerce_fields(es.by_name, body, es.type_name)
        data.pop(es.key, None)  # the key is read-only here: ignored silently, as recorded
        with self.store.transaction():
            if replace:
                record = defaults(es) | {
                    f.name: current.get(f.name) for f in es.fields if f.read_only
                } | {es.key: key} | data
                self._fill_lines(es, record)
                if es.name in DOCUMENT_SETS:  # PUT replaces the lines: validate them anew
                    for line in record["DocumentLines"]:
                        line["__changed"] = True
                    data = data | {"DocumentLines": record["DocumentLines"]}
            else:
                record = copy.deepcopy(current)
                for name, value in data.items():
                    f = es.by_name.get(name)
                    if f is not None and f.kind == "lines":
                        record[name] = self._merge_lines(es, f, current, value, replace_lines)
                    else:
                        record[name] = value
            document_rules.before_update(self, es, current, record, data)
            self.stamp(record)
            self.store.put(es.name, key, record, "Update")
            return record

    def _merge_lines(self, es: EntitySet, f, current: dict, new: list, replace: bool) -> list:
        """Document lines, addresses and contact persons: members sent with their key are
        updated, the others appended; other collections, or all with ``replace``, are
        replaced."""
        documents = es.name in DOCUMENT_SETS
        if replace or f.name not in COLLECTION_KEYS:
            lines = collection_members.fill(self.store, f, new, current.get(es.key))
            for line in lines:
                if documents:
                    line["__changed"] = True
            return lines
        return collection_members.merge(self.store, f, current.get(f.name) or [], new,
                                        current.get(es.key), mark_changed=documents)

    # delete / actions ----------------------------------------------------------
    def delete(self, es: EntitySet, key: object) -> None:
        current = self.store.get(es.name, key)
        if current is None:
            raise entity_missing(key_literal(es, key))
        with self.store.transaction():
            document_rules.before_delete(self, es, current)
            self.store.delete(es.name, key)

    def action(self, es: EntitySet, key: object, name: str) -> None:
        current = self.store.get(es.name, key)
        if current is None:
            raise entity_missing(key_literal(es, key))
        with self.store.transaction():
            record = copy.deepcopy(current)
            document_rules.run_action(self, es, record, name)
            self.stamp(record)
            self.store.put(es.name, key, record, "Update")
