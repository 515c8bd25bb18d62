"""Partners -> accounts and contacts both ways, end to end (emulators and hub as processes)."""

from __future__ import annotations

import json

from flows_landscape import sap_post, wait_until
from refdata_landscape import start, writes


def accounts_numbered(land, number: str) -> list[dict]:
    return [r for r in land.sf_rows("Account") if r.get("AccountNumber") == number]


def idle_calls(land) -> tuple[dict, dict]:
    """The calls both emulators counted over four poll cycles from now (SAP's, Salesforce's)."""
    land.sf.admin.post("/emulator/stats/reset")
    land.sap.admin_json("POST", "stats/reset")
    wait_until(
        lambda: land.sap_requests().get("GET BusinessPartners", 0) >= 8, 15, "four poll cycles"
    )
    return land.sap_requests(), land.sf_calls()


def test_partner_created_in_sap_becomes_an_account_once_and_keeps_salesforce_names(landscape):
    land = start(landscape)
    # the demo's customer entered in SAP only already has its account
    (harbor,) = accounts_numbered(land, "C1021")
    assert harbor["Name"] == "Harbor Clinics" and harbor["SAP_Credit_Limit__c"] == 15000
    sl = land.sap_session()
    sap_post(sl, "BusinessPartners", {
        "CardCode": "C2001", "CardName": "Walk-in Optics", "CardType": "cCustomer",
        "Phone1": "+1 555 0100", "City": "Reno", "CreditLimit": 5000})  # fmt: skip
    (acc,) = wait_until(lambda: accounts_numbered(land, "C2001"), 10, "the new account")
    assert (acc["Name"], acc["Phone"], acc["BillingCity"]) == (
        "Walk-in Optics", "+1 555 0100", "Reno")  # fmt: skip
    # Salesforce owns the name once the account exists; SAP owns the credit limit
    land.sf_rest("PATCH", f"sobjects/Account/{acc['Id']}", {"Name": "Walk-in Optics Inc."})
    r = sl.patch("BusinessPartners('C2001')", json={"CreditLimit": 7500})
    assert r.status_code == 204
    wait_until(
        lambda: land.sf_record("Account", acc["Id"]).get("SAP_Credit_Limit__c") == 7500,
        10,
        "the credit limit on the account",
    )
    wait_until(
        lambda: (
            land.sap.admin_json("GET", "entities/BusinessPartners/C2001")["CardName"]
            == "Walk-in Optics Inc."
        ),
        10,
        "the Salesforce name on the partner",
    )
    assert land.sf_record("Account", acc["Id"])["Name"] == "Walk-in Optics Inc."
    assert len(accounts_numbered(land, "C2001")) == 1


def test_a_partner_created_in_sap_gets_its_new_accounts_id_at_once_then_all_is_quiet(landscape):
    land = start(landscape)
    sl = land.sap_session()
    # a country the account may carry, and one it may not: both partners keep theirs
    gb = {"Address": "4 Harbour Road", "City": "Leeds", "ZipCode": "LS1 4AP", "Country": "GB"}
    no = {"Address": "Kaigata 1", "City": "Oslo", "ZipCode": "0150", "Country": "NO"}
    for code, name, address in (("C2002", "Fjord Lenses", gb), ("C2003", "Nordlys AS", no)):
        sap_post(sl, "BusinessPartners", {
            "CardCode": code, "CardName": name, "CardType": "cCustomer",
            "Phone1": "+47 555 0101", **address})  # fmt: skip
    partner = lambda code: land.sap.admin_json("GET", f"entities/BusinessPartners/{code}")  # noqa: E731
    (acc,) = wait_until(lambda: accounts_numbered(land, "C2002"), 10, "the new account")
    (acc3,) = wait_until(lambda: accounts_numbered(land, "C2003"), 10, "the other account")
    assert (acc["BillingStreet"], acc["BillingPostalCode"], acc["BillingCountry"]) == (
        "4 Harbour Road", "LS1 4AP", "GB")  # fmt: skip
    assert (acc3["BillingCity"], acc3.get("BillingCountry") or "") == ("Oslo", "")
    # nobody edits the accounts: their ids still reach the partners within a few poll cycles
    wait_until(lambda: partner("C2002").get("U_SFAccountId") == acc["Id"], 10, "the account id")
    wait_until(lambda: partner("C2003").get("U_SFAccountId") == acc3["Id"], 10, "the other id")
    for code, address in (("C2002", gb), ("C2003", no)):
        bp = partner(code)
        assert {k: bp[k] for k in address} == address  # the link-back wrote nothing else
    assert (partner("C2002")["CardName"], partner("C2002")["Phone1"]) == (
        "Fjord Lenses", "+47 555 0101")  # fmt: skip

    # idle: over several poll cycles no write on either side and no Salesforce call
    polls0 = land.sap_requests().get("GET BusinessPartners", 0)
    wait_until(
        lambda: land.sap_requests().get("GET BusinessPartners", 0) >= polls0 + 6, 15, "polls"
    )
    sap, sf = idle_calls(land)
    assert writes(sap) == {}, sap
    assert sf["total"] == 0, sf["by_route"]
    assert len(accounts_numbered(land, "C2002")) == len(accounts_numbered(land, "C2003")) == 1
    codes = [r["CardCode"] for r in land.sap_rows("BusinessPartners")]
    assert codes.count("C2002") == codes.count("C2003") == 1
    assert partner("C2002")["U_SFAccountId"] == acc["Id"]
    # the reconcile report pairs them: nothing differs for the new partner and its account
    with land.config.open("a") as fh:
        fh.write("\n[plugins.drift]\nenabled = true\n")
    res = land.hub("reconcile", "--json")
    assert res.returncode in (0, 4), res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert "accounts" in report["checked"]
    assert [d for d in report["drift"] if d["key"] in ("C2002", "C2003")] == []


def test_contacts_travel_both_ways_without_a_loop(landscape):
    land = start(landscape)
    # one hub process, three flows writing to SAP B1: $metadata was read once for all of them
    assert land.sap_requests().get("GET $metadata") == 1, land.sap_requests()
    # the demo's contacts: Acme's from Salesforce is on the partner, Borealis's from SAP is a
    # Salesforce contact, each with its job title
    bp = land.sap.admin_json("GET", "entities/BusinessPartners/C1001")
    assert [(m["E_Mail"], m["Position"]) for m in bp["ContactEmployees"]] == [
        ("dana.whitfield@acme.example", "Head of Procurement")]  # fmt: skip
    titles = lambda: {c.get("Email"): c.get("Title") for c in land.sf_rows("Contact")}  # noqa: E731
    wait_until(
        lambda: titles().get("ingrid.nilsen@borealis.example") == "Finance Manager",
        10,
        "the SAP contact with her position as title",
    )

    acc = land.account_id("C1003")
    long_title = "Regional Director of Strategic Procurement, " * 3  # 132 characters
    cid = land.sf_rest("POST", "sobjects/Contact", {
        "AccountId": acc, "FirstName": "Mara", "LastName": "Jansen",
        "Email": "mara.jansen@orion.example", "Phone": "+31 10 555 0199",
        "Title": long_title[:128]}).json()["id"]  # fmt: skip

    def member():
        bp = land.sap.admin_json("GET", "entities/BusinessPartners/C1003")
        return next(
            (m for m in bp["ContactEmployees"] if m["E_Mail"] == "mara.jansen@orion.example"),
            None,
        )

    added = wait_until(member, 10, "the contact on the partner")
    assert (added["FirstName"], added["LastName"], added["Phone1"], added["Name"]) == (
        "Mara", "Jansen", "+31 10 555 0199", "Mara Jansen")  # fmt: skip
    assert added["Position"] == long_title[:90]  # the title, cut to OCPR.Position's 90

    sl = land.sap_session()
    r = sl.patch("BusinessPartners('C1003')", json={"ContactEmployees": [
        {"InternalCode": added["InternalCode"], "Phone1": "+31 10 555 0200",
         "Position": "Head of Purchasing"}]})  # fmt: skip
    assert r.status_code == 204, r.text
    wait_until(
        lambda: land.sf_record("Contact", cid).get("Phone") == "+31 10 555 0200",
        10,
        "the SAP phone on the Salesforce contact",
    )
    assert land.sf_record("Contact", cid)["Title"] == "Head of Purchasing"
    # let the last writes come back, then idle: no write on either side, no Salesforce call
    polls0 = land.sap_requests().get("GET BusinessPartners", 0)
    wait_until(
        lambda: land.sap_requests().get("GET BusinessPartners", 0) >= polls0 + 6, 15, "polls"
    )
    land.sf.admin.post("/emulator/stats/reset")
    land.sap.admin_json("POST", "stats/reset")
    wait_until(
        lambda: land.sap_requests().get("GET BusinessPartners", 0) >= 8, 15, "four poll cycles"
    )
    sap, sf = land.sap_requests(), land.sf_calls()
    assert writes(sap) == {}, sap
    assert sf["total"] == 0, sf["by_route"]
    assert (member()["Phone1"], member()["Position"]) == ("+31 10 555 0200", "Head of Purchasing")
    contacts = [c for c in land.sf_rows("Contact") if c.get("Email") == "mara.jansen@orion.example"]
    assert [c["Id"] for c in contacts] == [cid]


def test_with_accounts_polled_a_partner_created_in_sap_gets_its_accounts_id_once(landscape):
    """The link-back without change data capture for accounts: the hub's own new account comes
    back through the SOQL poll and links the partner; no second account, no write loop."""
    land = start(landscape, "--cdc-objects", "Opportunity,Order,Contact")
    assert "no change events for Account" in land.hub_log(100_000)  # accounts are polled
    sap_post(land.sap_session(), "BusinessPartners", {
        "CardCode": "C2004", "CardName": "Polled Optics", "CardType": "cCustomer",
        "City": "Reno"})  # fmt: skip
    (acc,) = wait_until(lambda: accounts_numbered(land, "C2004"), 10, "the new account")
    wait_until(
        lambda: (
            land.sap.admin_json("GET", "entities/BusinessPartners/C2004").get("U_SFAccountId")
            == acc["Id"]
        ),
        15,
        "the account id on the partner",
    )
    # idle: over several poll cycles, polls only: no write on either side
    sap, sf = idle_calls(land)
    assert writes(sap) == {}, sap
    assert writes(sf["by_route"]) == {}, sf["by_route"]
    assert sf["by_route"], "the accounts were not polled: the test proves nothing"
    assert len(accounts_numbered(land, "C2004")) == 1
