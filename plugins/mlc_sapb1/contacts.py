"""Business partner contact persons (``ContactEmployees``), read and written one by one.

``sapb1.contact_persons`` polls business partners by their update stamps and hands over each
contact person as a record of its own: external id ``CardCode/InternalCode``, the member's
fields plus ``CardCode`` and ``CardType``. With ``echo_fields`` (the fields the
Salesforce -> SAP flow writes) the record's content hash covers only those, so the hub's own
writes coming back are recognised and dropped.

``sapb1.contact_person`` writes a contact to the partner named by ``CardCode``: the linked
member (``InternalCode``), else the member with the same e-mail (without case), else a new one
(``Name``, unique within the partner, defaults to first and last name). The partner's members
are read first (one query per 50 partners); a member already holding the values costs no
call; the others of one partner go in one PATCH (members carrying ``InternalCode`` are updated
in place, the rest appended).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hub import (
    Change,
    ChangeBatch,
    HubError,
    RecordError,
    Setting,
    Sink,
    SinkItem,
    TargetField,
    WriteResult,
    content_hash,
)

from . import odata
from .connection import shared_client
from .errors import ServiceLayerError, record_error
from .metadata import metadata_of
from .sources import BusinessPartnerPoller
from .startup import check_at_start

MEMBERS = "ContactEmployees"


def _empty(value: Any) -> bool:
    return value is None or value == ""


def echo_hash(member: dict[str, Any], fields: list[str]) -> str:
    """The hash of what the reverse flow would have written: the non-empty ``fields``."""
    return content_hash({f: member[f] for f in fields if not _empty(member.get(f))})


class ContactPersonPoller(BusinessPartnerPoller):
    name = "sapb1.contact_persons"
    object_type = "ContactEmployee"
    options = {
        **BusinessPartnerPoller.options,
        "echo_fields": Setting(
            list, default=[], items=str, help="fields the reverse flow writes (hash over these)"
        ),
    }

    def _params(self) -> dict[str, Any]:
        return {"$select": "CardCode,CardType,UpdateDate,UpdateTime," + MEMBERS}

    def _hinted(self) -> Iterator[ChangeBatch]:
        """Webhook hints on business partners belong to ``sapb1.business_partners`` (a hint
        is dropped once read); contact persons come with the polling pass."""
        return iter(())

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        echo = self.opts["echo_fields"]
        for batch in super().read(checkpoint):
            changes = []
            for bp in batch.changes:
                if bp.op == "delete":
                    continue
                code = bp.payload.get("CardCode") or bp.external_id
                for member in bp.payload.get(MEMBERS) or []:
                    payload = {**member, "CardCode": code, "CardType": bp.payload.get("CardType")}
                    changes.append(
                        Change(
                            f"{code}/{member.get('InternalCode')}",
                            payload,
                            object_type=self.object_type,
                            content_hash=echo_hash(payload, echo) if echo else None,
                        )
                    )
            yield ChangeBatch(changes, batch.checkpoint)


class ContactPersonSink(Sink):
    name = "sapb1.contact_person"
    system = "sapb1"
    object_type = "ContactEmployee"
    batch_size = 50
    options = {
        "email_field": Setting(str, default="E_Mail", help="matched within the partner"),
    }

    def open(self) -> None:
        self.client = shared_client(self.context.settings, getattr(self.context, "state", None))
        check_at_start(self.client, f"sink {self.name}", "BusinessPartners", ["CardCode", MEMBERS])
        self.entity_set = "BusinessPartners"

    def close(self) -> None:
        self.client.session.save()

    def target_fields(self) -> dict[str, TargetField] | None:
        """The members of ``BusinessPartners``' ``ContactEmployees`` in ``$metadata`` (read
        once per client), with ``CardCode`` naming the partner to write to."""
        if not hasattr(self, "client"):
            self.open()
        partner = metadata_of(self.client).entity_fields("BusinessPartners") or {}
        members = partner.get(MEMBERS)
        if members is None or members.fields is None:
            return None
        card_code = partner.get("CardCode") or TargetField("CardCode")
        return {**members.fields, "CardCode": card_code}

    def partners(self, codes: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for i in range(0, len(codes), 50):
            chunk = codes[i : i + 50]
            params = {"$filter": odata.any_of("CardCode", chunk), "$select": "CardCode," + MEMBERS}
            for page in self.client.pages("BusinessPartners", params):
                for row in page:
                    out[row["CardCode"]] = row.get(MEMBERS) or []
        return out

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        if not hasattr(self, "client"):
            self.open()
        mail_key = self.opts["email_field"]
        results: list[WriteResult | None] = [None] * len(items)
        codes: dict[int, str] = {}
        for i, item in enumerate(items):
            code = item.payload.get("CardCode") or (item.target_id or "").partition("/")[0]
            if not code:
                results[i] = WriteResult(error=RecordError("no CardCode", field="CardCode"))
            else:
                codes[i] = code
        try:
            found = self.partners(sorted(set(codes.values())))
        except HubError as exc:
            return [r or WriteResult(error=exc) for r in results]
        sends: dict[str, list[tuple[int, dict]]] = defaultdict(list)
        for i, code in codes.items():
            if code not in found:
                results[i] = WriteResult(error=RecordError(
                    f"no SAP B1 business partner {code!r}", field="CardCode"))  # fmt: skip
                continue
            body = {k: v for k, v in items[i].payload.items() if k not in ("CardCode",)}
            have = self.member_for(found[code], items[i], body, mail_key)
            if have is not None:
                if all((have.get(k) or None) == (v or None) for k, v in body.items()):
                    target = f"{code}/{have['InternalCode']}"
                    results[i] = WriteResult(target_id=target, summary={"action": "unchanged"})
                    continue
                body = {**body, "InternalCode": have["InternalCode"]}
            elif _empty(body.get("Name")):
                name = " ".join(str(body.get(k)) for k in ("FirstName", "LastName") if body.get(k))
                body["Name"] = name or str(body.get(mail_key) or "")
            sends[code].append((i, body))
        for code, members in sends.items():
            path = odata.key_path("BusinessPartners", code)
            try:
                self.client.patch(path, {MEMBERS: [m for _, m in members]})
            except ServiceLayerError as exc:
                error = exc if exc.status >= 500 else record_error(exc, {MEMBERS: members[0][1]})
                for i, _ in members:
                    results[i] = WriteResult(error=error)
                continue
            except HubError as exc:
                for i, _ in members:
                    results[i] = WriteResult(error=exc)
                continue
            self._targets(code, members, results, mail_key)
        return [r or WriteResult() for r in results]

    def member_for(self, members, item: SinkItem, body, mail_key) -> dict | None:
        linked = (item.target_id or "").partition("/")[2]
        for m in members:
            if linked and str(m.get("InternalCode")) == linked:
                return m
        mail = str(body.get(mail_key) or "").casefold()
        hits = [m for m in members if mail and str(m.get(mail_key) or "").casefold() == mail]
        return hits[0] if len(hits) == 1 else None

    def _targets(self, code, members, results, mail_key) -> None:
        fresh = None
        for i, body in members:
            internal = body.get("InternalCode")
            if internal is None:
                if fresh is None:
                    fresh = self.partners([code]).get(code, [])
                hit = next((m for m in fresh if m.get("Name") == body.get("Name")), None)
                internal = hit.get("InternalCode") if hit else None
            summary = {"method": "PATCH", "path": f"BusinessPartners('{code}')", "member": internal}
            results[i] = WriteResult(target_id=f"{code}/{internal}", summary=summary)
