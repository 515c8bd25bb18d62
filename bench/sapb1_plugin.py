"""SAP B1 plugin benchmark against the Service Layer emulator (a real HTTPS process).

Printed figures, all from one run:
- Logins over an hour of continuous activity on the emulator clock: 4 threads sharing the
  plugin's client read and write while the emulator clock advances one minute per step, for
  60 steps (and the same activity with a 1 s server idle timeout and idle gaps, to show that
  only a real expiry costs a Login);
- creating --orders sales orders through ``sapb1.sales_order`` (batches of 50: one look-up +
  one $batch each) against a naive loop of one POST per order, in the same run: requests per
  10 orders and seconds for each;
- an initial read of --partners business partners through ``sapb1.business_partners``:
  page requests against ceil(N / page_size), and peak traced memory at 25 %, 50 % and 100 %.

Usage: python bench/sapb1_plugin.py [--orders 1000] [--partners 100000] [--page-size 500]
Results are also written to bench/results/sapb1_plugin.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


def settings(emu, **over):
    return {
        "service_layer_url": emu.base_url, "company_db": emu.company, "username": emu.user,
        "password": emu.password, "ca_bundle": str(emu.ca_path), "timeout": 60.0,
        "page_size": 500, "webhook_key": None, **over,
    }  # fmt: skip


def component(cls, emu, options=None, **over):
    from hub import ComponentContext
    from hub.settings import validate

    ctx = ComponentContext("bench", "sapb1", settings(emu, **over), threading.Event(),
                           logging.getLogger("bench"))  # fmt: skip
    comp = cls(ctx, validate(options or {}, cls.options, "bench").values)
    comp.open()
    return comp


def stats(emu):
    return emu.admin_json("GET", "stats")


def logins(emu) -> int:
    return stats(emu)["requests"].get("POST Login", 0)


def bench_logins(emu) -> dict:
    from mlc_sapb1.client import ServiceLayerClient
    from mlc_sapb1.settings import ServiceLayerSettings

    emu.admin_json("POST", "clock", {"now": "2024-05-02T08:00:00", "frozen": True})
    client = ServiceLayerClient(ServiceLayerSettings.from_settings(settings(emu)))
    before = logins(emu)
    requests = 0
    with ThreadPoolExecutor(4) as pool:
        for step in range(60):
            emu.admin_json("POST", "clock", {"advance": 60})
            calls = [lambda: client.get("BusinessPartners", {"$top": 5})] * 6 + [
                lambda s=step: client.patch("BusinessPartners('B-C1')", {"Phone1": f"{s}"})
            ]
            list(pool.map(lambda f: f(), calls))
            requests += len(calls)
    hour = {"emulator_minutes": 60, "requests": requests, "logins": logins(emu) - before}
    # a short server idle timeout: only a real expiry costs a Login
    emu.admin_json("POST", "config", {"session_timeout_seconds": 1.0})
    before = logins(emu)
    for _ in range(3):
        client.get("BusinessPartners", {"$top": 1})
        time.sleep(1.5)  # idle past the server's timeout on purpose
    client.get("BusinessPartners", {"$top": 1})
    hour["idle_gaps"] = 3
    hour["logins_with_idle_gaps"] = logins(emu) - before
    emu.admin_json("POST", "config", {"session_timeout_seconds": None})
    client.http.close()
    return hour


def bench_orders(emu, n: int) -> dict:
    import httpx
    from mlc_sapb1.sinks import SalesOrderSink
    from mlc_sapb1_emulator.testing import unique_code

    def order():
        return {"CardCode": "B-C1", "DocDueDate": "2024-06-30",
                "DocumentLines": [{"ItemCode": "B-I1", "Quantity": 1}]}  # fmt: skip

    sink = component(SalesOrderSink, emu)
    sink.client.get("Items", {"$top": 1})  # logged in: count only the work
    from hub import Record, SinkItem

    def item(key):
        rec = Record(1, "b", "sf", "sf", "Opportunity", key, "upsert", {}, "h", "claimed", 0)
        return SinkItem(rec, order())

    keys = [unique_code("BO") for _ in range(n)]
    before, t0 = stats(emu)["requests_total"], time.perf_counter()
    errors = 0
    for i in range(0, n, 50):
        results = sink.write([item(k) for k in keys[i : i + 50]])
        errors += sum(1 for r in results if r.error is not None)
    plugin_s = time.perf_counter() - t0
    plugin_requests = stats(emu)["requests_total"] - before

    naive = emu.session()
    before, t0 = stats(emu)["requests_total"], time.perf_counter()
    for k in (unique_code("BN") for _ in range(n)):
        r = naive.post("Orders", json={**order(), "NumAtCard": k})
        r.raise_for_status()
    naive_s = time.perf_counter() - t0
    naive_requests = stats(emu)["requests_total"] - before
    assert isinstance(naive, httpx.Client)
    return {
        "orders": n,
        "errors": errors,
        "plugin_requests": plugin_requests,
        "plugin_requests_per_10": round(plugin_requests * 10 / n, 3),
        "plugin_seconds": round(plugin_s, 2),
        "naive_requests": naive_requests,
        "naive_requests_per_10": round(naive_requests * 10 / n, 3),
        "naive_seconds": round(naive_s, 2),
        "speedup": round(naive_s / plugin_s, 2),
    }


def bench_partners(emu, n: int, page_size: int) -> dict:
    from mlc_sapb1.sources import BusinessPartnerPoller

    emu.admin_json("POST", "generate", {"business_partners": n})
    total = stats(emu)["entities"]["BusinessPartners"] if "entities" in stats(emu) else None
    src = component(BusinessPartnerPoller, emu, {"page_size": page_size})
    src.client.get("Items", {"$top": 1})
    before = stats(emu)["requests"].get("GET BusinessPartners", 0)
    tracemalloc.start()
    read, marks = 0, {}
    t0 = time.perf_counter()
    for batch in src.read(None):
        read += len(batch.changes)
        for pct in (25, 50, 100):
            if pct not in marks and read >= n * pct / 100:
                marks[pct] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
    seconds = time.perf_counter() - t0
    tracemalloc.stop()
    requests = stats(emu)["requests"]["GET BusinessPartners"] - before
    pages = requests - 1  # the first request asks for the newest stamp ($top=1)
    return {
        "partners_read": read,
        "partners_in_company": total or read,
        "page_size": page_size,
        "page_requests": pages,
        "requests_with_newest_stamp_probe": requests,
        "ceil_n_over_page_size": math.ceil(read / page_size),
        "seconds": round(seconds, 1),
        "peak_traced_mb_at_25_50_100": [marks.get(p) for p in (25, 50, 100)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--partners", type=int, default=100_000)
    ap.add_argument("--page-size", type=int, default=500)
    ap.add_argument("--out", default=str(HERE / "results" / "sapb1_plugin.json"))
    args = ap.parse_args()
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "BusinessPartners": [{"CardCode": "B-C1", "CardName": "Bench", "CardType": "cCustomer"}],
        "Items": [{"ItemCode": "B-I1", "ItemName": "Bench item",
                   "ItemPrices": [{"PriceList": 1, "Price": 10.0, "Currency": "USD"}]}],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        emu = launch_emulator(Path(tmp) / "sapb1", [], seed)
        try:
            results = {"logins": bench_logins(emu)}
            print(json.dumps(results["logins"]), flush=True)
            results["orders"] = bench_orders(emu, args.orders)
            print(json.dumps(results["orders"]), flush=True)
            emu.admin_json("POST", "clock", {"reset": True})
            results["partners"] = bench_partners(emu, args.partners, args.page_size)
            print(json.dumps(results["partners"]), flush=True)
        finally:
            emu.stop()
    results["args"] = vars(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
