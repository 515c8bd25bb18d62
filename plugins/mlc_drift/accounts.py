"""Accounts and business partners, both ways.

``accounts-to-partners`` (``salesforce.accounts`` -> ``sapb1.business_partner``): for every
account the flow maps, the partner must exist and hold what the mapping makes of the account
(the fields the flow owns; fields owned by SAP are left out by the mapping itself).
``partners-to-accounts`` (``sapb1.business_partners`` or ``sapb1.partner_balances`` ->
``salesforce.account_fields``): per customer partner, SAP's credit limit and balance (and with
``sapb1.partner_balances`` the overdue amount, over the open invoices read once) must be on its
account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from mlc_sapb1.balances import OPEN_FIELDS, overdue

from hub import Drift, HubError

from .base import SapSalesforceReconciler
from .systems import field_diffs, find_flow, mapping_paths, record, same, shown

ACCOUNT_BASE = ("Id", "Name", "AccountNumber")
OVERDUE_FIELDS = ("OverdueAmount", "OpenInvoicesTotal", "OverdueInvoices")


class AccountsReconciler(SapSalesforceReconciler):
    name = "accounts"

    def applies(self) -> bool:
        self.to_sap = find_flow(self.context, "salesforce.accounts", "sapb1.business_partner")
        self.to_sf = next(
            (f for src in ("sapb1.business_partners", "sapb1.partner_balances")
             for sink in ("salesforce.account_fields", "salesforce.account")
             if (f := find_flow(self.context, src, sink))),
            None,
        )  # fmt: skip
        return bool(self.to_sap or self.to_sf)

    def compare(self) -> Iterator[Drift]:
        sys = self.systems
        m_sap = self.mapping(self.to_sap) if self.to_sap else None
        m_sf = self.mapping(self.to_sf) if self.to_sf else None
        sf_fields = set(ACCOUNT_BASE) | (mapping_paths(m_sap) if m_sap else set())
        if self.to_sf:
            sf_fields |= set(self.to_sf.sink_options.get("fields") or [])
            sf_fields |= set((self.to_sf.mapping_options or {}).get("fields") or {})
        known = sys.sf.field_names("Account")
        self.budget.spend("salesforce")  # the describe above
        cols = ", ".join(sorted(f for f in sf_fields if f in known))
        accounts = {
            a["AccountNumber"]: a
            for a in sys.sf_rows(f"SELECT {cols} FROM Account WHERE AccountNumber != null")
        }
        select = {"CardCode", "CardName", "CardType"}
        if m_sf:
            select |= mapping_paths(m_sf) - set(OVERDUE_FIELDS)
        expected: dict[str, dict[str, Any]] = {}
        if m_sap:
            for number, acc in accounts.items():
                rec = record(self.to_sap, "salesforce", "Account", acc["Id"], acc)
                try:
                    expected[number] = m_sap.map(rec, {})
                except HubError as exc:  # not mapped (a `when`) or unmappable: the flow parks it
                    self.log.debug("account %s not compared: %s", number, exc)
                    continue
                select |= {k for k, v in expected[number].items() if not isinstance(v, list)}
        partners = sys.sap_rows(
            "BusinessPartners",
            {"$select": ",".join(sorted(select)), "$filter": "CardType eq 'cCustomer'"},
        )
        if self.to_sf and self.to_sf.source == "sapb1.partner_balances":
            partners = self._with_overdue(list(partners))
        seen: set[str] = set()
        for bp in partners:
            code = str(bp["CardCode"])
            seen.add(code)
            acc = accounts.get(code)
            if m_sap and code in expected:
                yield from self._master_data(code, expected[code], bp, accounts[code])
            if self.to_sf and m_sf:
                yield from self._balances(code, bp, acc, m_sf)
        for number in sorted(set(expected) - seen):
            yield Drift(self.to_sap.name, "missing_in_sapb1", number,
                        f"account {accounts[number].get('Name')!r} has no business partner",
                        self.to_sap.name, accounts[number]["Id"])  # fmt: skip

    def _with_overdue(self, partners: list[dict]) -> list[dict]:
        """The partners with the fields ``sapb1.partner_balances`` adds: every open invoice of
        the company read once."""
        params = {"$filter": "DocumentStatus eq 'bost_Open'", "$select": OPEN_FIELDS}
        per_card: dict[str, list[dict]] = {}
        for inv in self.systems.sap_rows("Invoices", params):
            per_card.setdefault(inv["CardCode"], []).append(inv)
        today = dt.date.today()
        return [bp | overdue(per_card.get(bp["CardCode"], []), today) for bp in partners]

    def _master_data(self, code, want, bp, acc) -> Iterator[Drift]:
        diffs = [
            f"{k}: Salesforce maps {shown(v)}, SAP has {shown(bp.get(k))}"
            for k, v in sorted(want.items())
            if not isinstance(v, list | dict) and k in bp and not same(v, bp.get(k))
        ]
        if diffs:
            yield Drift(self.to_sap.name, "field_differs", code, "; ".join(diffs),
                        self.to_sap.name, acc["Id"])  # fmt: skip

    def _balances(self, code, bp, acc, mapping) -> Iterator[Drift]:
        flow = self.to_sf
        rec = record(flow, "sapb1", "BusinessPartner", code, bp)
        if acc is None:
            try:
                mapping.accepts(rec)
            except HubError:
                return
            what = f"partner {bp.get('CardName')!r} has no account with this number"
            yield Drift(flow.name, "missing_in_salesforce", code, what)
            return
        try:
            want = mapping.map(rec, {"Id": acc["Id"]})
        except HubError as exc:
            self.log.debug("partner %s not compared: %s", code, exc)
            return
        # fields the sink writes only when it creates the account are Salesforce's afterwards
        theirs = {"Id", *(flow.sink_options.get("create_only") or [])}
        diffs = field_diffs(want, acc, skip=theirs)
        if diffs:
            yield Drift(flow.name, "balance_differs", code, "; ".join(diffs), flow.name, code)
