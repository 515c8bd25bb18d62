"""Loading a seed document (profile, custom fields, users, apps, records) into an org.

Records may carry a ``"ref"`` name; a string value ``"@name"`` elsewhere in the seed is replaced
by that record's id, so seeds need no hard-coded ids. ``"@standard_pricebook"`` is the org's
standard price book.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import opportunity_stages
from .dml import Change, DmlError, Transaction
from .pricebook_rules import standard_pricebook_id

if TYPE_CHECKING:
    from .org_state import OrgState

log = logging.getLogger(__name__)
STANDARD_PRICEBOOK_REF = "standard_pricebook"  # "@standard_pricebook": the org's standard book
SEED_KEYS = {"profile", "custom_fields", "platform_events", "users", "connected_apps",
             "opportunity_stages", "records", "publish_events"}


class SeedError(ValueError):
    pass


def _resolve(value, refs: dict[str, str]):
    if isinstance(value, str) and value.startswith("@") and len(value) > 1:
        if value[1:] not in refs:
            raise SeedError(f"unknown seed reference {value!r}")
        return refs[value[1:]]
    return value


def load_seed(org: OrgState, doc: dict) -> dict:
    """Apply ``doc`` to ``org``; return counts of what was loaded. Raises SeedError."""
    if not isinstance(doc, dict):
        raise SeedError("a seed is a JSON object")
    unknown = set(doc) - SEED_KEYS
    if unknown:
        raise SeedError(f"unknown seed keys: {sorted(unknown)}")
    try:
        return _load(org, doc)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, SeedError):
            raise
        raise SeedError(f"invalid seed: {exc}") from None


def _load(org: OrgState, doc: dict) -> dict:
    counts: dict[str, int] = {}
    if doc.get("profile"):
        unknown = org.profile.update(doc["profile"])
        if unknown:
            raise SeedError(f"unknown profile keys: {unknown}")
        org.rebuild_catalog()
    for obj, specs in (doc.get("custom_fields") or {}).items():
        if org.object_def(obj) is None:
            raise SeedError(f"custom fields for unknown object {obj!r}")
        org.add_custom_fields(org.object_def(obj).name, specs)
    for name, specs in (doc.get("platform_events") or {}).items():
        org.cdc.add_platform_event(name, specs)
    for spec in doc.get("opportunity_stages") or []:
        opportunity_stages.put_stage(org, spec, _seed_user(org))
    if doc.get("users"):
        _load_users(org, doc["users"])
    for app in doc.get("connected_apps") or []:
        org.sessions.register_app(app["client_id"], app["client_secret"], app.get("run_as"))
    records = doc.get("records") or {}
    if records:
        counts.update(_load_records(org, records, bool(doc.get("publish_events", False))))
    return counts


def _load_users(org: OrgState, users: list[dict]) -> None:
    """Create or change users; with CDC on User, each publishes a change event."""
    txn = Transaction(org, _seed_user(org), "")
    for user in users:
        known = {u["Id"] for u in org.store.live("User")}
        uid = org.ensure_user(user["username"], user.get("name"))
        old = dict(org.store.get("User", uid))
        rec = dict(old, IsActive=bool(user.get("active", True)))
        if uid not in known:
            txn.changes.append(Change("CREATE", "User", uid, rec,
                                      changed=[k for k, v in rec.items() if v is not None]))
        elif rec != old:
            now = org.clock.now_ms()
            rec.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=txn.user_id)
            changed = [k for k in rec if rec[k] != old.get(k) and k != "SystemModstamp"]
            txn.changes.append(Change("UPDATE", "User", uid, rec, changed=changed))
        org.store.put("User", rec, uid)
    txn.commit()


def _seed_user(org: OrgState) -> str:
    users = [u for u in org.store.live("User") if u.get("IsActive")]
    app = org.sessions.apps.get("demo-client-id")
    return app["user_id"] if app and app.get("user_id") else users[0]["Id"]


def _load_records(org: OrgState, records: dict, publish: bool) -> dict:
    txn = Transaction(org, _seed_user(org), "com/salesforce/api/rest/63.0")
    refs: dict[str, str] = {}
    standard = standard_pricebook_id(org)
    if standard:
        refs[STANDARD_PRICEBOOK_REF] = standard
    counts: dict[str, int] = {}
    try:
        for obj, rows in records.items():
            odef = org.object_def(obj)
            if odef is None:
                raise SeedError(f"records for unknown object {obj!r}")
            for index, row in enumerate(rows):
                values = {k: _resolve(v, refs) for k, v in row.items() if k != "ref"}
                try:
                    rid = txn.create(odef.name, values)
                except DmlError as exc:
                    raise SeedError(f"{obj}[{index}]: {exc.code}: {exc.message}") from None
                if row.get("ref"):
                    refs[row["ref"]] = rid
                counts[odef.name] = counts.get(odef.name, 0) + 1
    except SeedError:
        txn.rollback()
        raise
    if publish:
        txn.commit()
    else:
        txn.changes.clear()
        txn.commit()
    log.info("seeded %s", counts)
    return counts
