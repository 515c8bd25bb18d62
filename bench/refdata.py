"""Benchmark of the initial product load: SAP items with two price lists -> Salesforce.

Both emulators run as real HTTPS processes: the SAP B1 one generates N items (default 5,000)
priced in two price lists (``--generate price_lists=2,items=N``: list 1 in USD with EUR as its
additional currency, list 2 in EUR with GBP), the Salesforce one is a multi-currency org. The
flow ``items-to-products`` of the example configuration runs its own parts as the engine would
(``sapb1.items`` source, the declarative mapping, the ``salesforce.products`` sink in batches
of 200): every item becomes a Product2 with four price-book entries (standard and "Partner"
books, USD and EUR; USD in list 2 converted from EUR by the configured rate). API calls are
counted by the emulators.

Run: ``tox -e bench-refdata`` or ``python bench/refdata.py [--items N]``. Figures go to
``bench/results/refdata.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
import tomllib
from pathlib import Path

from mlc_salesforce.products import ProductSink
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from mlc_sapb1.refdata import ItemPoller
from mlc_sapb1_emulator.testing import launch_emulator

from hub import ComponentContext, Record, SinkItem
from hub.examples import render
from hub.mapping.declarative import DeclarativeMapping

RESULTS = Path(__file__).parent / "results" / "refdata.json"
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}


def flow_config() -> dict:
    return tomllib.loads(render("sapb1-salesforce", "/tmp/unused"))["flows"]["items-to-products"]


def context(plugin: str, settings: dict) -> ComponentContext:
    log = logging.getLogger("bench.refdata")
    return ComponentContext("items-to-products", plugin, settings, threading.Event(), log)


def options(cls, given: dict) -> dict:
    return {**{k: s.default for k, s in cls.options.items()}, **given}


def run(n_items: int, workdir: Path) -> dict:
    cfg = flow_config()
    sap = launch_emulator(workdir / "sap", ["--generate", f"price_lists=2,items={n_items}"])
    try:
        with run_salesforce_emulator(workdir / "sf", "--multi-currency") as sf:
            return measure(cfg, sap, sf, n_items)
    finally:
        sap.stop()


def measure(cfg: dict, sap, sf, n_items: int) -> dict:
    sap_settings = {
        "service_layer_url": sap.base_url, "company_db": "SBODEMOUS", "username": "manager",
        "password": "manager", "ca_bundle": str(sap.ca_path), "timeout": 60, "page_size": 500,
    }  # fmt: skip
    sf_settings = {
        "instance_url": sf.instance_url, "client_id": sf.client_id,
        "client_secret": sf.client_secret, "api_version": "63.0",
        "pubsub_endpoint": sf.grpc_target, "ca_bundle": sf.ca_path, "session_timeout": 7200,
        "daily_api_budget": 1.0,
    }  # fmt: skip
    source = ItemPoller(context("sapb1", sap_settings), options(ItemPoller, {}))
    sink_opts = {**cfg["sink_options"], "rates": RATES}
    sink = ProductSink(context("salesforce", sf_settings), options(ProductSink, sink_opts))
    mapping = DeclarativeMapping(
        context("hub", {}), options(DeclarativeMapping, cfg["mapping_options"])
    )
    source.open()
    sink.open()
    mapping.bind_sink(sink)
    mapping.open()
    sap.admin_json("POST", "stats/reset")
    sf.admin.post("/emulator/stats/reset")
    t0 = time.perf_counter()
    items, failed, batches = 0, [], 0
    pending: list[SinkItem] = []

    def flush() -> None:
        nonlocal batches
        if pending:
            results = sink.write(pending)
            failed.extend(str(r.error) for r in results if r.error is not None)
            batches += 1
            pending.clear()

    for batch in source.read(None):
        for change in batch.changes:
            items += 1
            record = Record(
                items, "items-to-products", "sapb1.items", "sapb1", "Item", change.external_id,
                "upsert", change.payload, "", "ready", 0,
            )  # fmt: skip
            pending.append(SinkItem(record, mapping.map(record, {})))
            if len(pending) == sink.batch_size:
                flush()
    flush()
    seconds = time.perf_counter() - t0
    sf_stats = sf.admin.stats()["api_calls"]
    sap_stats = sap.admin_json("GET", "stats")["requests"]
    counts = {o: len(sf.admin.get(f"/emulator/records/{o}").get("records", []))
              for o in ("Product2", "PricebookEntry")}  # fmt: skip
    sf_calls = sf_stats["total"]
    return {
        "items": items,
        "price_lists": 2,
        "currencies": list(cfg["sink_options"]["currencies"]),
        "products": counts["Product2"],
        "price_book_entries": counts["PricebookEntry"],
        "failed_items": len(failed),
        "first_failures": failed[:3],
        "seconds": round(seconds, 1),
        "items_per_second": round(items / seconds, 1),
        "salesforce_calls": sf_calls,
        "salesforce_calls_by_route": sf_stats["by_route"],
        "salesforce_calls_per_item": round(sf_calls / max(1, items), 4),
        "salesforce_calls_per_100_entries": round(
            100 * sf_calls / max(1, counts["PricebookEntry"]), 3
        ),
        "sap_calls": sum(sap_stats.values()),
        "sap_calls_by_route": sap_stats,
        "sink_batches": batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.items, Path(tmp))
    figures["date"] = time.strftime("%Y-%m-%d")
    print(json.dumps(figures, indent=2))
    if args.items == 5000:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
