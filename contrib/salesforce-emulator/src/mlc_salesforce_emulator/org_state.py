"""The whole state of one emulated org, and its persistence to ``DIR/state.json``."""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from . import opportunity_stages, pricebook_rules
from .api_usage import ApiUsage
from .catalog import ObjectDef, build_catalog
from .change_events import ChangeEventPublisher
from .emulator_clock import EmulatorClock
from .event_bus import EventBus
from .faults import FaultRules
from .org_profile import OrgProfile
from .record_ids import make_id
from .record_store import RecordStore
from .sessions import SessionRegistry

log = logging.getLogger(__name__)

DEFAULT_USER = "integration@demo.example"
DEFAULT_CLIENT_ID = "demo-client-id"
DEFAULT_CLIENT_SECRET = "demo-client-secret"
# master-detail style deletes: deleting the parent deletes these children (and publishes their
# DELETE change events in the same transaction)
CASCADES = {
    "Account": [("Opportunity", "AccountId"), ("Contact", "AccountId")],
    "Opportunity": [("OpportunityLineItem", "OpportunityId")],
}


class OrgState:
    def __init__(self, profile: OrgProfile | None = None, org_id: str | None = None) -> None:
        self.profile = profile or OrgProfile()
        self.org_id = org_id or make_id("00D", secrets.randbelow(62 ** 6) + 1)
        self.clock = EmulatorClock()
        self.custom_fields: dict[str, list[dict]] = {}
        self.store = RecordStore()
        self.sessions = SessionRegistry(self)
        self.usage = ApiUsage(self)
        self.bus = EventBus(self)
        self.cdc = ChangeEventPublisher(self)
        self.faults = FaultRules()
        self.catalog: dict[str, ObjectDef] = {}
        self.rebuild_catalog()

    # catalog -----------------------------------------------------------------
    def rebuild_catalog(self) -> None:
        self.catalog = build_catalog(self.profile, self.custom_fields)
        self._lower = {k.lower(): v for k, v in self.catalog.items()}
        self.store.rebuild_indexes(self.catalog)
        opportunity_stages.refresh_stage_picklist(self)
        self.cdc.refresh_schemas()

    def object_def(self, name: str) -> ObjectDef | None:
        if not isinstance(name, str):
            return None
        return self.catalog.get(name) or self._lower.get(name.lower())

    def add_custom_fields(self, obj: str, specs: list[dict]) -> None:
        existing = {s["name"].lower(): i for i, s in enumerate(self.custom_fields.get(obj, []))}
        fields = self.custom_fields.setdefault(obj, [])
        for spec in specs:
            if not str(spec.get("name", "")).endswith("__c"):
                raise ValueError(f"custom field names end in __c: {spec.get('name')!r}")
            if spec["name"].lower() in existing:
                fields[existing[spec["name"].lower()]] = spec
            else:
                fields.append(spec)
        self.rebuild_catalog()

    def cascade_children(self, obj: str) -> list[tuple[str, str]]:
        return CASCADES.get(obj, [])

    # users -------------------------------------------------------------------
    def ensure_user(self, username: str, name: str | None = None, active: bool = True) -> str:
        for rec in self.store.live("User"):
            if rec["Username"].lower() == username.lower():
                return rec["Id"]
        now = self.clock.now_ms()
        rid = self.store.next_id("005")
        self.store.put("User", {
            "Id": rid, "Username": username, "Name": name or username.split("@")[0].title(),
            "Email": username, "IsActive": active, "IsDeleted": False, "CreatedDate": now,
            "CreatedById": rid, "LastModifiedDate": now, "LastModifiedById": rid,
            "SystemModstamp": now}, rid)
        return rid

    def user_by_id(self, uid: str) -> dict | None:
        return self.store.get("User", uid)

    def bootstrap(self) -> None:
        """Give a fresh org its integration user and demo connected app."""
        self.ensure_user(DEFAULT_USER, "Integration User")
        self.sessions.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER)
        uid = self.sessions.apps[DEFAULT_CLIENT_ID]["user_id"]
        opportunity_stages.ensure_standard_stages(self, uid)
        if not any(self.store.live("Pricebook2")):
            now = self.clock.now_ms()
            rid = self.store.next_id("01s")
            rec = {f: None for f in self.catalog["Pricebook2"].fields}
            rec.update(Id=rid, Name="Standard Price Book", IsActive=True, IsStandard=True,
                       IsDeleted=False, CreatedDate=now, CreatedById=uid,
                       LastModifiedDate=now, LastModifiedById=uid, SystemModstamp=now)
            rec.pop("CurrencyIsoCode", None)
            self.store.put("Pricebook2", rec, rid)

    # derived fields ------------------------------------------------------------
    def derive_fields(self, odef: ObjectDef, rec: dict, creating: bool, txn,
                      given: dict | None = None, old: dict | None = None) -> None:
        """Fields the org maintains, and the rules that span records; ``given`` holds the
        values the request wrote, ``old`` the record before an update."""
        name = odef.name
        given = given if given is not None else {}
        if creating and "OwnerId" in odef.fields and not rec.get("OwnerId"):
            rec["OwnerId"] = txn.user_id
        if "CurrencyIsoCode" in odef.fields and not rec.get("CurrencyIsoCode"):
            rec["CurrencyIsoCode"] = self.profile.default_currency
        if name == "Contact":
            rec["Name"] = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)
        elif name == "Opportunity":
            opportunity_stages.derive_opportunity_stage(self, rec, given, old)
            pricebook_rules.derive_opportunity(self, rec, given, old)
        elif name == "Order" and creating:
            rec["OrderNumber"] = f"{self.store.next_number('OrderNumber') + 99:08d}"
            rec["TotalAmount"] = rec.get("TotalAmount") or 0.0
        elif name == "Invoice" and creating:
            rec["DocumentNumber"] = f"INV-{self.store.next_number('InvoiceNumber'):08d}"
        elif name == "PricebookEntry":
            product = self.store.get("Product2", rec.get("Product2Id") or "") or {}
            rec["Name"] = product.get("Name")
            rec["ProductCode"] = product.get("ProductCode")
            pricebook_rules.check_pricebook_entry(self, rec, creating)
        elif name == "OpportunityLineItem":
            pricebook_rules.derive_line_item(self, rec, given, creating)

    # events ------------------------------------------------------------------------
    def publish_changes(self, txn) -> None:
        self.cdc.publish_transaction(txn)

    # persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": 1, "org_id": self.org_id, "profile": self.profile.to_dict(),
            "clock_offset_ms": self.clock.offset_ms, "custom_fields": self.custom_fields,
            "store": self.store.to_dict(), "sessions": self.sessions.to_dict(),
            "usage": self.usage.to_dict(), "bus": self.bus.to_dict(), "cdc": self.cdc.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> OrgState:
        org = cls(OrgProfile.from_dict(data.get("profile", {})), data["org_id"])
        org.clock.offset_ms = int(data.get("clock_offset_ms", 0))
        org.custom_fields = data.get("custom_fields", {})
        org.store.load_dict(data.get("store", {}))
        org.sessions.load_dict(data.get("sessions", {}))
        org.usage.load_dict(data.get("usage", {}))
        org.cdc.load_dict(data.get("cdc", {}))
        org.bus.load_dict(data.get("bus", {}))
        org.rebuild_catalog()
        return org

    def save(self, data_dir: Path) -> Path:
        path = Path(data_dir) / "state.json"
        tmp = path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        log.info("state saved to %s", path)
        return path

    @classmethod
    def load_or_create(cls, data_dir: Path, profile: OrgProfile) -> tuple[OrgState, bool]:
        path = Path(data_dir) / "state.json"
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                org = cls.from_dict(json.load(fh))
            users = [u["Id"] for u in org.store.live("User")]
            if users:  # state saved before stages were records
                opportunity_stages.ensure_standard_stages(org, users[0])
            log.info("state loaded from %s", path)
            return org, True
        org = cls(profile)
        org.bootstrap()
        return org, False
