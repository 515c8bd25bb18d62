"""Accounts and contacts created or linked from SAP B1, and contacts read for SAP.

``salesforce.account`` takes a business partner created in SAP: the account whose
``match_field`` (``AccountNumber`` by default) holds the CardCode is linked (once: the hub's
link is used from then on), or an account is created. ``create_only`` fields (the master data
Salesforce owns once the account exists, such as ``Name``) are written only when the hub
creates the account, so the Account -> Business Partner flow and this one never fight over
them.

``salesforce.contact`` writes a partner's contact person to the Contact of the matched
account: the linked contact, else the account's contact with the same e-mail (compared without
case), else a new one. A contact already holding the values is not written (no call), so a
change that came from Salesforce and went to SAP ends there.

``salesforce.order_by_opportunity`` and ``salesforce.order_fields`` put SAP order data (the
fulfilment status, for one) on the Salesforce Order of the opportunity the SAP order carries,
in orgs that use Orders.

``salesforce.contacts`` reads contacts (CDC or polling, like the other sources) with their
account's number.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub import Record, RecordError, Setting, SinkItem, WriteResult

from .matchers import OpportunityByKey
from .records import OBJECTS, ObjectSpec
from .refdata_writes import CollectionWriter, SalesforceWriteSink, chunks
from .sinks import CollectionSink
from .soql import quote_list
from .sources import SalesforceSource

OBJECTS.setdefault(
    "Contact",
    ObjectSpec(
        "Contact",
        (
            "Id",
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "AccountId",
            "Account.AccountNumber",
            "SystemModstamp",
            "IsDeleted",
        ),
    ),  # fmt: skip
)


class ContactSource(SalesforceSource):
    """Contacts, with ``Account.AccountNumber`` (the partner's CardCode)."""

    name = "salesforce.contacts"
    object_type = sobject = "Contact"


def same(have: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether ``have`` already holds every value of ``body`` (empty and missing are alike)."""
    return all((have.get(k) or None) == (v or None) for k, v in body.items())


def ambiguous_accounts(field: str, code: str, rows: list[dict]) -> str:
    """Why a partner matching several accounts is parked, in words sales ops can act on: which
    accounts, with their numbers as written (Salesforce matches them ignoring letter case)."""
    listed = ", ".join(
        f"{r.get('Id')} {r.get('Name')!r} ({field} {r.get(field)!r})" for r in rows[:5]
    )
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    case = (
        " (Salesforce compares it ignoring letter case)"
        if len({str(r.get(field)) for r in rows}) > 1 else ""
    )  # fmt: skip
    return (
        f"{len(rows)} accounts have {field} {code!r}{case}: {listed}{more}; give each account "
        f"its own {field}, then retry the record"
    )


class AccountSink(SalesforceWriteSink):
    name = "salesforce.account"
    object_type = sobject = "Account"
    options = {
        "match_field": Setting(str, default="AccountNumber", help="Account field = CardCode"),
        "create_only": Setting(
            list, default=[], items=str, help="fields written only when creating the account"
        ),
    }

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        self._ensure_open()
        field = self.opts["match_field"]
        create_only = set(self.opts["create_only"])
        results: list[WriteResult | None] = [None] * len(items)
        codes = {}
        for i, item in enumerate(items):
            code = item.payload.get(field)
            if code in (None, "") and not item.target_id:
                results[i] = WriteResult(error=RecordError(f"no {field} to match", field=field))
            elif not item.target_id:
                codes[i] = str(code)
        fields = sorted({k for it in items for k in it.payload if k != "Id"})
        found = self.lookup(field, sorted(set(codes.values())), fields)
        creates, updates = [], []
        for i, item in enumerate(items):
            if results[i] is not None:
                continue
            body = {k: v for k, v in item.payload.items() if k != "Id"}
            rid = item.target_id or None
            if rid is None:
                rows = found.get(codes[i].casefold(), [])
                if len(rows) > 1:
                    why = ambiguous_accounts(field, codes[i], rows)
                    results[i] = WriteResult(error=RecordError(why, field=field))
                    continue
                if not rows:
                    creates.append((i, {"attributes": {"type": "Account"}, **body}))
                    continue
                rid, have = rows[0]["Id"], rows[0]
            else:
                have = None
            body = {k: v for k, v in body.items() if k not in create_only}
            if not body or (have is not None and same(have, body)):
                results[i] = WriteResult(target_id=rid, summary={"action": "linked, unchanged"})
                continue
            updates.append((i, {"attributes": {"type": "Account"}, "Id": rid, **body}))
        writer = CollectionWriter(self.conn.rest, self.sobject)
        for i, res in writer.create(creates) + writer.update(updates):
            results[i] = res
        return [r or WriteResult() for r in results]

    def lookup(self, field: str, codes: list[str], fields: list[str]) -> dict[str, list[dict]]:
        known = self.describe_fields()
        named = ["Name"] if "Name" in known else []  # for a parked record's reason
        cols = ", ".join(dict.fromkeys(["Id", field, *named, *[f for f in fields if f in known]]))
        out: dict[str, list[dict]] = defaultdict(list)
        for chunk in chunks(codes, 200):
            soql = f"SELECT {cols} FROM Account WHERE {field} IN {quote_list(chunk)}"
            for row in self.conn.rest.query_records(soql):
                out[str(row.get(field)).casefold()].append(row)
        return out


class ContactSink(SalesforceWriteSink):
    name = "salesforce.contact"
    object_type = sobject = "Contact"
    options = {
        "account_field": Setting(str, default="AccountId", help="payload key of the account id"),
        "email_field": Setting(str, default="Email", help="matched within the account"),
        "create_only": Setting(list, default=[], items=str, help="written only on create"),
    }

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        self._ensure_open()
        acc_key, mail_key = self.opts["account_field"], self.opts["email_field"]
        create_only = set(self.opts["create_only"])
        results: list[WriteResult | None] = [None] * len(items)
        accounts = set()
        for i, item in enumerate(items):
            if not item.payload.get(acc_key):
                results[i] = WriteResult(error=RecordError(f"no {acc_key}", field=acc_key))
            else:
                accounts.add(item.payload[acc_key])
        fields = sorted({k for it in items for k in it.payload if k != "Id"} | {acc_key, mail_key})
        existing = self.contacts_of(sorted(accounts), fields)
        by_id = {c["Id"]: c for rows in existing.values() for c in rows}
        creates, updates = [], []
        for i, item in enumerate(items):
            if results[i] is not None:
                continue
            body = {k: v for k, v in item.payload.items() if k != "Id"}
            have = by_id.get(item.target_id or "")
            if have is None:
                mail = str(body.get(mail_key) or "").casefold()
                rows = [c for c in existing.get(body[acc_key], [])
                        if mail and str(c.get(mail_key) or "").casefold() == mail]  # fmt: skip
                if len(rows) > 1:
                    results[i] = WriteResult(error=RecordError(
                        f"{len(rows)} contacts of the account have {mail_key} {mail!r}",
                        field=mail_key))  # fmt: skip
                    continue
                have = rows[0] if rows else None
            if have is None:
                creates.append((i, {"attributes": {"type": "Contact"}, **body}))
                continue
            body = {k: v for k, v in body.items() if k not in create_only}
            if same(have, body):
                results[i] = WriteResult(target_id=have["Id"], summary={"action": "unchanged"})
                continue
            updates.append((i, {"attributes": {"type": "Contact"}, "Id": have["Id"], **body}))
        writer = CollectionWriter(self.conn.rest, self.sobject)
        for i, res in writer.create(creates) + writer.update(updates):
            results[i] = res
        return [r or WriteResult() for r in results]

    def contacts_of(self, accounts: list[str], fields: list[str]) -> dict[str, list[dict]]:
        known = self.describe_fields()
        cols = ", ".join(dict.fromkeys(["Id", *[f for f in fields if f in known]]))
        acc_key = self.opts["account_field"]
        out: dict[str, list[dict]] = defaultdict(list)
        for chunk in chunks(accounts, 200):
            soql = f"SELECT {cols} FROM Contact WHERE {acc_key} IN {quote_list(chunk)}"
            for row in self.conn.rest.query_records(soql):
                out[row.get(acc_key)].append(row)
        return out


class OrderByOpportunity(OpportunityByKey):
    """An SAP document -> the Salesforce Order of the opportunity whose id it carries."""

    name = "salesforce.order_by_opportunity"
    sobject = "Order"
    key_option, field_option = "key_field", "order_field"
    options = {
        "key_field": Setting(
            str, default="U_SFOpportunityId", help="payload key holding the opportunity id"
        ),
        "order_field": Setting(str, default="OpportunityId", help="Order field it is matched to"),
    }

    def norm(self, value: str) -> str:
        return value[:15]  # record ids: 15- and 18-character forms of one id match

    def key_of(self, record: Record) -> str:
        from .matchers import _RECORD_ID

        key = str(record.payload.get(self.opts["key_field"]) or "")
        if not (_RECORD_ID.match(key) and key.startswith("006")):
            raise RecordError(f"not an Opportunity id: {key!r}", field=self.opts["key_field"])
        return key

    def lookup(self, keys: list[str]) -> dict[str, list[dict]]:
        return super(OpportunityByKey, self).lookup(keys)


class OrderFieldsSink(CollectionSink):
    """Field updates on Orders (fulfilment status, tracking numbers ...)."""

    name = "salesforce.order_fields"
    object_type = sobject = "Order"
