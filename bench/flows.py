"""The three flows against both emulators, compared with a per-record script in the same run.

Printed figures, all from one run (fresh emulators with the same seed for each side):
- initial sync of --opportunities won opportunities (two line items each) into SAP B1 sales
  orders, their DocNum written back, and of --invoices SAP B1 invoices onto their
  opportunities: total seconds and API calls per record on each side, for the hub
  (``hub sync`` of opportunities-to-orders, orders-to-opportunities, invoices-to-opportunities
  with the example config) and for the straightforward script a user would write
  (simple-salesforce and httpx, one call per record, no batching or caching);
- under ``hub run`` with Change Data Capture: --latency-changes opportunities won at a steady
  --rate per second, median and 99th percentile from the Salesforce write to the SAP order
  (the order's commit in the hub's audit trail).

Usage: python bench/flows.py [--opportunities 2000] [--invoices 20000] [--rate 20]
Results are also written to bench/results/flows.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hub.demo import seed as demo_seed  # noqa: E402
from hub.demo.emulators import SalesforceEmulator, SapB1Emulator, free_port  # noqa: E402
from hub.examples import render  # noqa: E402

ACCOUNTS = 50
LINES = [("CONS-DAY", 2, 1200), ("LIC-STD", 10, 480)]


def sf_seed(n_won: int, n_open: int) -> dict:
    products = [p for p in demo_seed.PRODUCTS if p[4]]
    records: dict[str, list] = {
        "Account": [
            {"ref": f"a{i}", "Name": f"Bench account {i}", "AccountNumber": f"B{i:04d}"}
            for i in range(ACCOUNTS)
        ],
        "Product2": [
            {"ref": f"p-{c}", "Name": n, "ProductCode": c, "IsActive": True}
            for c, n, *_ in products
        ],
        "PricebookEntry": [
            {
                "ref": f"e-{c}",
                "Product2Id": f"@p-{c}",
                "UnitPrice": usd,
                "Pricebook2Id": "@standard_pricebook",
                "IsActive": True,
                "CurrencyIsoCode": "USD",
            }
            for c, _, usd, *_ in products
        ],
        "Opportunity": [],
        "OpportunityLineItem": [],
    }
    for i in range(n_won + n_open):
        stage = "Closed Won" if i < n_won else "Negotiation/Review"
        records["Opportunity"].append(
            {
                "ref": f"o{i}",
                "Name": f"Bench deal {i}",
                "AccountId": f"@a{i % ACCOUNTS}",
                "StageName": stage,
                "CloseDate": "2026-11-30",
                "CurrencyIsoCode": "USD",
            }
        )
        for code, qty, price in LINES:
            records["OpportunityLineItem"].append(
                {
                    "OpportunityId": f"@o{i}",
                    "Quantity": qty,
                    "PricebookEntryId": f"@e-{code}",
                    "UnitPrice": price,
                }
            )
    return {
        "profile": {"multi_currency": True},
        "custom_fields": {
            "Opportunity": demo_seed.OPPORTUNITY_FIELDS,
            "Account": demo_seed.ACCOUNT_FIELDS,
        },
        "records": records,
    }


def sap_seed(opp_ids: list[str], n_invoices: int) -> dict:
    base = demo_seed.sap_seed({ref: "" for ref in demo_seed.HISTORY})
    base["BusinessPartners"] = [
        {
            "CardCode": f"B{i:04d}",
            "CardName": f"Bench account {i}",
            "CardType": "cCustomer",
            "Currency": "##",
        }
        for i in range(ACCOUNTS)
    ]
    # the demo's documents name the demo's partners, which the bench replaces
    base["Orders"], base["IncomingPayments"], base["DeliveryNotes"] = [], [], []
    base["Invoices"] = [
        {
            "CardCode": f"B{(i % len(opp_ids)) % ACCOUNTS:04d}",
            "U_SFOpportunityId": opp_ids[i % len(opp_ids)],
            "DocDueDate": "2099-01-01",
            "DocumentLines": [{"ItemCode": "CONS-DAY", "Quantity": 1}],
        }
        for i in range(n_invoices)
    ]
    return base


class Side:
    """Both emulators for one contestant, seeded alike."""

    def __init__(self, root: Path, n_won: int, n_open: int, n_invoices: int) -> None:
        self.root = root
        root.mkdir(parents=True)
        (root / "sf.json").write_text(json.dumps(sf_seed(n_won, n_open)))
        self.sf = SalesforceEmulator(root / "sf", free_port(), free_port(), root / "sf.json")
        self.sf.command += ["--daily-api-limit", "10000000", "--page-size", "2000"]
        self.sf.start()
        self.sf.wait_ready(time.monotonic() + 120)
        with self.sf.admin() as c:
            rows = c.get("/emulator/records/Opportunity").json()["records"]
        order = {r["Name"]: r["Id"] for r in rows}
        self.won = [order[f"Bench deal {i}"] for i in range(n_won)]
        self.open = [order[f"Bench deal {i}"] for i in range(n_won, n_won + n_open)]
        (root / "sap.json").write_text(json.dumps(sap_seed(self.won, n_invoices)))
        self.sap = SapB1Emulator(root / "sap", free_port(), root / "sap.json")
        self.sap.start()
        self.sap.wait_ready(time.monotonic() + 300)

    def calls(self) -> tuple[int, int]:
        with self.sf.admin() as c:
            sf = c.get("/emulator/stats").json()["api_calls"]["total"]
        with self.sap.admin() as c:
            sap = c.get("/emulator/stats").json()["requests_total"]
        return sf, sap

    def stop(self) -> None:
        self.sf.stop()
        self.sap.stop()


def hub_side(side: Side, n_invoices: int, rate: float, n_changes: int) -> dict:
    from cryptography.fernet import Fernet

    from hub.store import Store
    from hub.vault import Vault, write_key_file

    cfg = side.root / "hub.toml"
    live = render(
        "sapb1-salesforce",
        str(side.root / "data"),
        sap_url=side.sap.url,
        sap_ca=f'ca_bundle = "{side.sap.ca_path}"',
        sf_url=side.sf.instance_url,
        sf_client_id="demo-client-id",
        sf_pubsub=side.sf.grpc_target,
        sf_ca=f'ca_bundle = "{side.sf.ca_path}"',
        sap_poll="30",  # the SAP side is not on the measured path
    )
    # the initial load reads by SOQL (polling); hub run then streams change events
    cfg.write_text(live.replace('mode = "auto"                #', 'mode = "poll"  #'))
    write_key_file(side.root / "data" / "vault.key", Fernet.generate_key())
    store = Store(f"sqlite:///{side.root / 'data' / 'hub.db'}")
    vault = Vault(store, side.root / "data" / "vault.key")
    vault.set("sap-password", "manager")
    vault.set("sf-client-secret", "demo-client-secret")
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_CONFIG"], env["HUB_LOG_LEVEL"] = str(cfg), "WARNING"

    def sync(flow: str) -> None:
        r = subprocess.run(
            [sys.executable, "-m", "hub", "sync", flow], env=env, capture_output=True, text=True
        )
        if r.returncode not in (0, 4):
            raise SystemExit(f"hub sync {flow} failed: {r.stderr[-2000:]}")

    out: dict = {}
    for phase, flows, n in (
        ("opportunities", ["opportunities-to-orders", "orders-to-opportunities"], len(side.won)),
        ("invoices", ["invoices-to-opportunities"], n_invoices),
    ):
        sf0, sap0 = side.calls()
        t0 = time.perf_counter()
        for flow in flows:
            sync(flow)
        sf1, sap1 = side.calls()
        out[phase] = {
            "records": n,
            "seconds": round(time.perf_counter() - t0, 2),
            "salesforce_calls": sf1 - sf0,
            "sapb1_requests": sap1 - sap0,
        }
    cfg.write_text(live)
    out["latency"] = latency(side, env, rate, n_changes)
    return out


def streaming(admin: httpx.Client, store) -> bool:
    if admin.get("/emulator/stats").json()["active_subscribers"] < 2:
        return False
    if any(f.get("pending") or f.get("processing") for f in store.counts().values()):
        return False
    cp = store.get_checkpoint("opportunities-to-orders", "salesforce.opportunities") or "{}"
    return json.loads(cp).get("mode") == "cdc" and bool(json.loads(cp).get("replay_id"))


def latency(side: Side, env: dict, rate: float, n: int) -> dict:
    from hub.store import Store

    log = open(side.root / "hub-run.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        with side.sf.admin() as c:
            store = Store(f"sqlite:///{side.root / 'data' / 'hub.db'}", migrate=False)
            try:
                # subscribed, and the load that follows a first subscription processed
                while not streaming(c, store):
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("hub run did not subscribe to change events")
                    time.sleep(0.2)
            finally:
                store.close()
            tok = c.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "demo-client-id",
                    "client_secret": "demo-client-secret",
                },
            ).json()["access_token"]
        tls = ssl.create_default_context(cafile=str(side.sf.ca_path))
        sent: dict[str, float] = {}
        with httpx.Client(verify=tls, timeout=30, headers={"Authorization": f"Bearer {tok}"}) as c:
            start = time.time()
            for i, opp in enumerate(side.open[:n]):
                due = start + i / rate
                while time.time() < due:
                    time.sleep(min(0.005, due - time.time()))
                sent[opp] = time.time()
                r = c.patch(
                    f"{side.sf.instance_url}/services/data/v63.0/sobjects/Opportunity/{opp}",
                    json={"StageName": "Closed Won"},
                )
                r.raise_for_status()
        store = Store(f"sqlite:///{side.root / 'data' / 'hub.db'}", migrate=False)
        lat: dict[str, float] = {}
        deadline = time.monotonic() + 120
        try:
            while len(lat) < len(sent) and time.monotonic() < deadline:
                for opp in sent:
                    if opp in lat:
                        continue
                    for rid in store.record_ids(opp):
                        written = [e.at for e in store.timeline([rid]) if e.step == "written"]
                        if written:
                            lat[opp] = max(0.0, written[0] - sent[opp])
                time.sleep(0.5)
        finally:
            store.close()
        values = sorted(lat.values())
        p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))] if values else None
        return {
            "changes": len(sent),
            "rate_per_s": rate,
            "orders": len(values),
            "median_ms": round(statistics.median(values) * 1000, 1) if values else None,
            "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()


def naive_side(side: Side, n_invoices: int) -> dict:
    """What a user would script: one call per record, nothing batched or cached."""
    import requests
    from simple_salesforce import Salesforce

    with side.sf.admin() as c:
        tok = c.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client-id",
                "client_secret": "demo-client-secret",
            },
        ).json()
    session = requests.Session()
    session.verify, session.trust_env = str(side.sf.ca_path), False
    sf = Salesforce(
        instance_url=tok["instance_url"],
        session_id=tok["access_token"],
        session=session,
        version="63.0",
    )
    sap = httpx.Client(
        base_url=side.sap.url,
        timeout=60,
        verify=ssl.create_default_context(cafile=str(side.sap.ca_path)),
    )
    sap.post(
        "Login", json={"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"}
    ).raise_for_status()
    out: dict = {}
    sf0, sap0 = side.calls()
    t0 = time.perf_counter()
    for opp in sf.query_all_iter("SELECT Id, Name, AccountId FROM Opportunity WHERE IsWon = true"):
        account = sf.Account.get(opp["AccountId"])
        lines = sf.query(
            "SELECT ProductCode, Quantity, UnitPrice, Discount FROM "
            f"OpportunityLineItem WHERE OpportunityId = '{opp['Id']}'"
        )["records"]
        code = account["AccountNumber"]
        sap.get(f"BusinessPartners('{code}')").raise_for_status()
        found = sap.get(
            "Orders",
            params={"$filter": f"U_SFOpportunityId eq '{opp['Id']}'", "$select": "DocEntry,DocNum"},
        ).json()["value"]
        if found:
            order = found[0]
        else:
            r = sap.post(
                "Orders",
                json={
                    "CardCode": code,
                    "U_SFOpportunityId": opp["Id"],
                    "Comments": opp["Name"],
                    "DocumentLines": [
                        {
                            "ItemCode": ln["ProductCode"],
                            "Quantity": ln["Quantity"],
                            "UnitPrice": ln["UnitPrice"],
                        }
                        for ln in lines
                    ],
                },
            )
            r.raise_for_status()
            order = r.json()
        sf.Opportunity.update(
            opp["Id"],
            {"SAP_Order_DocNum__c": order["DocNum"], "SAP_Order_DocEntry__c": order["DocEntry"]},
        )
    sf1, sap1 = side.calls()
    out["opportunities"] = {
        "records": len(side.won),
        "seconds": round(time.perf_counter() - t0, 2),
        "salesforce_calls": sf1 - sf0,
        "sapb1_requests": sap1 - sap0,
    }
    t0 = time.perf_counter()
    path: str | None = "Invoices?$select=DocEntry,DocNum,DocTotal,PaidToDate,U_SFOpportunityId"
    while path:
        page = sap.get(path).json()
        for inv in page["value"]:
            total, paid = inv["DocTotal"], inv.get("PaidToDate") or 0
            sf.Opportunity.update(
                inv["U_SFOpportunityId"],
                {
                    "SAP_Invoice_DocNum__c": inv["DocNum"],
                    "SAP_Invoiced_Total__c": total,
                    "SAP_Paid_To_Date__c": paid,
                    "SAP_Outstanding__c": total - paid,
                },
            )
        path = page.get("@odata.nextLink")
    sf2, sap2 = side.calls()
    out["invoices"] = {
        "records": n_invoices,
        "seconds": round(time.perf_counter() - t0, 2),
        "salesforce_calls": sf2 - sf1,
        "sapb1_requests": sap2 - sap1,
    }
    sap.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opportunities", type=int, default=2000)
    ap.add_argument("--invoices", type=int, default=20000)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--latency-changes", type=int, default=200)
    ap.add_argument("--out", default=str(HERE / "results" / "flows.json"))
    args = ap.parse_args()
    results: dict = {"args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-flows-") as tmp:
        for name, run in (("hub", hub_side), ("naive", naive_side)):
            side = Side(Path(tmp) / name, args.opportunities, args.latency_changes, args.invoices)
            try:
                if name == "hub":
                    results[name] = run(side, args.invoices, args.rate, args.latency_changes)
                else:
                    results[name] = run(side, args.invoices)
            finally:
                side.stop()
            print(name, json.dumps(results[name]), flush=True)
    hub, naive = results["hub"], results["naive"]
    ratios = {}
    for phase in ("opportunities", "invoices"):
        h, n = hub[phase], naive[phase]
        ratios[phase] = {
            "salesforce_calls_naive_over_hub": round(
                n["salesforce_calls"] / max(1, h["salesforce_calls"]), 1
            ),
            "seconds_naive_over_hub": round(n["seconds"] / max(0.01, h["seconds"]), 2),
            "hub_salesforce_calls_per_record": round(h["salesforce_calls"] / h["records"], 4),
            "hub_sapb1_requests_per_record": round(h["sapb1_requests"] / h["records"], 4),
            "naive_salesforce_calls_per_record": round(n["salesforce_calls"] / n["records"], 4),
            "naive_sapb1_requests_per_record": round(n["sapb1_requests"] / n["records"], 4),
        }
    results["ratios"] = ratios
    print("ratios", json.dumps(ratios), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
