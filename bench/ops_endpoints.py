"""How long the operations endpoints take over a large store: /metrics, /readyz and the
console's live JSON (/api/overview), served by the core's routes on a real listener.

    python bench/ops_endpoints.py [--records 200000] [--parked 2000] [--pg URL]

Prints the median and p95 of 30 requests each, and the store's size. The store is filled
through the store's own ingest (one flow) and a share of the records is parked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx

from hub import Change, ChangeBatch
from hub.listener import HubListener
from hub.ops.routes import core_routes
from hub.plugins import PluginHost
from hub.store import Store
from hub.store.models import InboxRecord
from hub.web.accounts import Accounts


class MemoryState(dict):
    def get(self, key, default=None):
        return super().get(key, default)

    def set(self, key, value):
        self[key] = value

    def delete(self, *keys):
        return sum(1 for k in keys if self.pop(k, None) is not None)

    def keys(self, prefix=""):
        return sorted(k for k in super().keys() if k.startswith(prefix))


def fill(store: Store, records: int, parked: int) -> None:
    batch = 5000
    for start in range(0, records, batch):
        changes = [Change(f"R{i:08d}", {"n": i, "amount": i * 1.5})
                   for i in range(start, min(records, start + batch))]  # fmt: skip
        store.ingest("orders", "bench.source", "bench", "Order", ChangeBatch(changes, str(start)))
    InboxRecord.update(status="done").execute()
    ids = [r.id for r in InboxRecord.select(InboxRecord.id).limit(parked)]
    InboxRecord.update(status="parked", last_error="record orders/Order/R (#1), field 'x': "
                       "no account").where(InboxRecord.id.in_(ids)).execute()  # fmt: skip


def timed(client: httpx.Client, url: str, n: int = 30) -> dict:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--parked", type=int, default=2_000)
    ap.add_argument("--pg", help="a PostgreSQL store URL instead of SQLite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{Path(tmp) / 'hub.db'}"
        store = Store(url)
        t0 = time.perf_counter()
        fill(store, args.records, args.parked)
        fill_s = time.perf_counter() - t0
        state = MemoryState()
        host = PluginHost()
        hub = SimpleNamespace(store=store, host=host, settings={},
                              config=SimpleNamespace(hub={"console": True}, flows={}),
                              plugin_state=lambda plugin: state)  # fmt: skip
        Accounts(state).set("bench", "bench-password-long", "admin")
        routes, on_response = core_routes(hub, None)
        lst = HubListener("127.0.0.1:0", routes)
        lst.on_response = on_response
        lst.start()
        try:
            with httpx.Client(base_url=lst.url) as c:
                page = c.get("/login").text
                token = page.split('name="csrf" value="')[1].split('"')[0]
                c.post("/login", data={"user": "bench", "password": "bench-password-long",
                                       "csrf": token})  # fmt: skip
                out = {
                    "store": store.describe(), "records": args.records, "parked": args.parked,
                    "fill_seconds": round(fill_s, 1),
                    "metrics": timed(c, "/metrics"), "readyz": timed(c, "/readyz"),
                    "api_overview": timed(c, "/api/overview"),
                    "api_overview_search": timed(c, "/api/overview?q=R0000012&flow=orders"),
                }  # fmt: skip
        finally:
            lst.stop()
            store.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
