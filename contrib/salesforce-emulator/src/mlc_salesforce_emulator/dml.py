"""Data manipulation: create, update, delete and upsert inside a transaction.

Every operation validates fully before touching the store and leaves an undo entry, so a
failed all-or-none request rolls back cleanly. ``commit`` hands the changes to Change Data
Capture as one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .catalog import ObjectDef
from .field_values import FieldValueError, coerce
from .record_ids import normalize_id
from .rollup_summaries import after_line_item_change

if TYPE_CHECKING:
    from .org_state import OrgState

SYSTEM_FIELDS = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                 "LastModifiedById", "SystemModstamp"}


class DmlError(Exception):
    def __init__(self, code: str, message: str, fields: list[str] | None = None,
                 http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []
        self.http_status = http_status

    def as_result(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


@dataclass
class Change:
    change_type: str
    obj: str
    rid: str
    record: dict
    changed: list[str] = field(default_factory=list)
    nulled: list[str] = field(default_factory=list)


class Transaction:
    def __init__(self, org: OrgState, user_id: str, origin: str = "") -> None:
        self.org = org
        self.user_id = user_id
        self.origin = origin
        self.changes: list[Change] = []
        self._undo: list[tuple[str, str, dict | None]] = []
        self._number_undo: dict[str, int] = {}

    # helpers -----------------------------------------------------------------
    def object_def(self, obj: str) -> ObjectDef:
        odef = self.org.object_def(obj)
        if odef is None or not odef.createable:
            raise DmlError("NOT_FOUND", f"The requested resource does not exist: {obj}",
                           http_status=404)
        return odef

    def _coerce_values(self, odef: ObjectDef, values: dict, creating: bool) -> dict:
        out = {}
        for key, value in values.items():
            if key == "attributes":
                continue
            fdef = odef.field(key)
            if fdef is None:
                raise DmlError("INVALID_FIELD",
                               f"No such column '{key}' on sobject of type {odef.name}", [key])
            allowed = fdef.createable if creating else fdef.updateable
            if not allowed:
                if fdef.name == "Id":
                    continue
                raise DmlError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.", [fdef.name])
            try:
                value = coerce(fdef, value)
            except FieldValueError as exc:
                raise DmlError(exc.code, exc.message, exc.fields) from None
            if fdef.type == "reference" and value is not None:
                self._check_reference(fdef, value)
            if fdef.picklist and fdef.name == "CurrencyIsoCode" and value is not None \
                    and value not in fdef.picklist:
                raise DmlError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"Currency ISO Code: invalid currency code: {value}", [fdef.name])
            out[fdef.name] = value
        return out

    def _check_reference(self, fdef, rid: str) -> None:
        target = self.org.object_def(fdef.reference_to)
        if target is None or not rid.startswith(target.key_prefix):
            raise DmlError("FIELD_INTEGRITY_EXCEPTION",
                           f"{fdef.label}: id value of incorrect type: {rid}", [fdef.name])
        rec = self.org.store.get(target.name, rid)
        if rec is None or rec.get("IsDeleted"):
            raise DmlError("INVALID_CROSS_REFERENCE_KEY",
                           f"invalid cross reference id: {rid}", [fdef.name])

    def _check_unique(self, odef: ObjectDef, rec: dict) -> None:
        for name in odef.unique_fields:
            if rec.get(name) is None:
                continue
            ids = [i for i in self.org.store.find_by(odef.name, name, rec[name])
                   if i != rec["Id"]]
            if ids:
                raise DmlError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: "
                    f"{ids[0]}", [name])

    def _check_required(self, odef: ObjectDef, rec: dict) -> None:
        missing = [name for name in odef.required_fields if rec.get(name) in (None, "")]
        if missing:
            raise DmlError("REQUIRED_FIELD_MISSING",
                           f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _store(self, odef: ObjectDef, rid: str, rec: dict | None) -> None:
        old = self.org.store.put(odef.name, rec, rid)
        self._undo.append((odef.name, rid, old))

    def store_record(self, odef: ObjectDef, rec: dict) -> None:
        """Store a record the org itself changed (roll-ups), with an undo entry."""
        self._store(odef, rec["Id"], rec)

    def _after_write(self, odef: ObjectDef, rec: dict) -> None:
        if odef.name == "OpportunityLineItem":
            after_line_item_change(self, rec)

    # operations --------------------------------------------------------------
    def create(self, obj: str, values: dict) -> str:
        odef = self.object_def(obj)
        if values.get("Id"):
            raise DmlError("INVALID_FIELD_FOR_INSERT_UPDATE",
                           "cannot specify Id in an insert call", ["Id"])
        data = self._coerce_values(odef, values, creating=True)
        now = self.org.clock.now_ms()
        rid = self.org.store.next_id(odef.key_prefix)
        rec = dict(odef.blank_record)
        rec.update(data)
        rec.update(Id=rid, IsDeleted=False, CreatedDate=now, CreatedById=self.user_id,
                   LastModifiedDate=now, LastModifiedById=self.user_id, SystemModstamp=now)
        self.org.derive_fields(odef, rec, creating=True, txn=self, given=data)
        self._check_required(odef, rec)
        self._check_unique(odef, rec)
        self._store(odef, rid, rec)
        self.changes.append(Change("CREATE", odef.name, rid, rec,
                                   changed=[k for k, v in rec.items() if v is not None]))
        self._after_write(odef, rec)
        return rid

    def existing(self, odef: ObjectDef, rid: str, http: bool = False) -> dict:
        norm = normalize_id(rid) if isinstance(rid, str) else None
        if norm is None:
            raise DmlError("MALFORMED_ID", f"Record ID: id value of incorrect type: {rid}",
                           ["Id"], http_status=400)
        rec = self.org.store.get(odef.name, norm)
        if rec is None:
            raise DmlError("NOT_FOUND" if http else "INVALID_CROSS_REFERENCE_KEY",
                           "The requested resource does not exist" if http
                           else f"invalid cross reference id: {rid}", [], http_status=404)
        if rec.get("IsDeleted"):
            raise DmlError("ENTITY_IS_DELETED", "entity is deleted", [], http_status=404)
        return rec

    def update(self, obj: str, rid: str, values: dict, http: bool = False) -> str:
        odef = self.object_def(obj)
        old = self.existing(odef, rid, http=http)
        data = self._coerce_values(odef, values, creating=False)
        rec = dict(old)
        rec.update(data)
        now = self.org.clock.now_ms()
        rec.update(LastModifiedDate=now, LastModifiedById=self.user_id, SystemModstamp=now)
        self.org.derive_fields(odef, rec, creating=False, txn=self, given=data, old=old)
        self._check_required(odef, rec)
        self._check_unique(odef, rec)
        self._store(odef, rec["Id"], rec)
        changed = [k for k, v in rec.items() if old.get(k) != v and k != "SystemModstamp"]
        self.changes.append(Change(
            "UPDATE", odef.name, rec["Id"], rec,
            changed=changed, nulled=[k for k in changed if rec.get(k) is None]))
        self._after_write(odef, rec)
        return rec["Id"]

    def delete(self, obj: str, rid: str, http: bool = False) -> str:
        odef = self.object_def(obj)
        old = self.existing(odef, rid, http=http)
        rec = dict(old)
        now = self.org.clock.now_ms()
        rec.update(IsDeleted=True, LastModifiedDate=now, LastModifiedById=self.user_id,
                   SystemModstamp=now)
        self._store(odef, rec["Id"], rec)
        self.changes.append(Change("DELETE", odef.name, rec["Id"], rec))
        self._after_write(odef, rec)
        for child_obj, fname in self.org.cascade_children(odef.name):
            for child in list(self.org.store.live(child_obj)):
                if child.get(fname) == rec["Id"]:
                    self.delete(child_obj, child["Id"])
        return rec["Id"]

    def upsert(self, obj: str, ext_field: str, ext_value, values: dict,
               http: bool = False) -> tuple[str, bool]:
        odef = self.object_def(obj)
        fdef = odef.field(ext_field)
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            raise DmlError("NOT_FOUND", "Provided external ID field does not exist or is not "
                           f"accessible: {ext_field}", [], http_status=404)
        if fdef.name == "Id":
            if ext_value in (None, ""):
                return self.create(obj, values), True
            return self.update(obj, ext_value, values, http=http), False
        if ext_value in (None, ""):
            raise DmlError("MISSING_ARGUMENT", f"{fdef.name} not specified", [fdef.name])
        ids = self.org.store.find_by(odef.name, fdef.name, ext_value)
        body = {k: v for k, v in values.items() if k.lower() != fdef.name.lower()}
        if len(ids) > 1:
            raise DmlError("MULTIPLE_CHOICES", "More than one record found for external id "
                           f"field {fdef.name}: {ids}", [], http_status=300)
        if ids:
            return self.update(obj, ids[0], body, http=http), False
        body[fdef.name] = ext_value
        return self.create(obj, body), True

    # transaction control ---------------------------------------------------------
    def savepoint(self) -> tuple[int, int]:
        return len(self._undo), len(self.changes)

    def rollback_to(self, point: tuple[int, int]) -> None:
        undo_len, change_len = point
        while len(self._undo) > undo_len:
            obj, rid, old = self._undo.pop()
            self.org.store.put(obj, old, rid)
        del self.changes[change_len:]

    def rollback(self) -> None:
        self.rollback_to((0, 0))

    def commit(self) -> None:
        if self.changes:
            self.org.publish_changes(self)
        self._undo.clear()
