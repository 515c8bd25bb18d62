"""Benchmark of the Salesforce plugin against the Salesforce emulator (a real HTTPS/gRPC process).

Measured in one run, on one emulator:

1. Updating N opportunities (default 10,000): the plugin's ``salesforce.opportunity_fields`` sink
   (sObject Collections, batches of 200 as the engine hands them) against a per-record
   simple-salesforce loop (``sf.Opportunity.update``) over the same records: API calls counted
   by the emulator, wall time, and the ratios.
2. CDC latency: a ``salesforce.accounts`` source in CDC mode stores its batches in a SQLite hub
   store; for each of M single-record writes, the time from the emulator committing the write
   (the record's ``SystemModstamp``) to the change being committed to the inbox. Median and p90.
3. CDC throughput: E accounts are created (E change events); one fresh subscriber replays them
   from the replay id before, decoding every event and re-reading the records (one query per
   response of up to 100 events). Events per second.

Run: ``tox -e bench-salesforce-plugin`` or ``python bench/salesforce_plugin.py [--updates N]``.
Figures go to ``bench/results/salesforce_plugin.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
from mlc_salesforce import org
from mlc_salesforce.checkpoint import SourceCheckpoint
from mlc_salesforce.sinks import OpportunityFieldsSink
from mlc_salesforce.soql import parse_datetime
from mlc_salesforce.sources import AccountSource
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from simple_salesforce import Salesforce

from hub import ComponentContext, Record, SinkItem
from hub.store import Store

RESULTS = Path(__file__).parent / "results" / "salesforce_plugin.json"
SEED = {"custom_fields": {"Opportunity": [{"name": "SAP_Order_DocNum__c", "type": "string"}]}}


def settings_for(emu) -> dict:
    return {
        "instance_url": emu.instance_url,
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "api_version": "63.0",
        "pubsub_endpoint": emu.grpc_target,
        "ca_bundle": emu.ca_path,
        "session_timeout": 7200,
        "daily_api_budget": 1.0,
    }


def context(settings: dict, flow: str) -> ComponentContext:
    return ComponentContext(
        flow, "salesforce", settings, threading.Event(), logging.getLogger(flow)
    )


def options(cls, **values) -> dict:
    opts = {k: s.default for k, s in cls.options.items()}
    opts.update(values)
    return opts


def api_calls(emu) -> int:
    return emu.admin.stats()["api_calls"]["total"]


def opportunity_ids(emu, settings) -> list[str]:
    rest = org.build(settings).rest
    return [r["Id"] for r in rest.query_records("SELECT Id FROM Opportunity ORDER BY Id")]


def bench_updates(emu, settings: dict, n: int) -> dict:
    emu.admin.post(
        "/emulator/generate", {"accounts": n, "opportunities_per_account": 1, "products": 0}
    )
    ids = opportunity_ids(emu, settings)[:n]
    sink = OpportunityFieldsSink(context(settings, "bench"), options(OpportunityFieldsSink))
    sink.open()
    items = [
        SinkItem(
            Record(i, "bench", "sap", "sap", "Order", f"SO{i}", "upsert", {}, "", "ready", 0),
            {"Id": rid, "SAP_Order_DocNum__c": f"SO-{i}"},
        )
        for i, rid in enumerate(ids)
    ]
    before = api_calls(emu)
    start = time.perf_counter()
    for k in range(0, len(items), sink.batch_size):
        results = sink.write(items[k : k + sink.batch_size])
        assert all(r.error is None for r in results), [r.error for r in results if r.error][:3]
    hub_seconds = time.perf_counter() - start
    hub_calls = api_calls(emu) - before

    session = requests.Session()
    session.trust_env, session.verify = False, emu.ca_path
    token = emu.token()
    sf = Salesforce(
        instance_url=token["instance_url"],
        session_id=token["access_token"],
        session=session,
        version="63.0",
    )
    before = api_calls(emu)
    start = time.perf_counter()
    for i, rid in enumerate(ids):
        sf.Opportunity.update(rid, {"SAP_Order_DocNum__c": f"LOOP-{i}"})
    loop_seconds = time.perf_counter() - start
    loop_calls = api_calls(emu) - before
    return {
        "records": len(ids),
        "hub_collection_calls": hub_calls,
        "hub_seconds": round(hub_seconds, 2),
        "loop_calls": loop_calls,
        "loop_seconds": round(loop_seconds, 2),
        "call_ratio": round(loop_calls / hub_calls, 1),
        "speed_ratio": round(loop_seconds / hub_seconds, 1),
    }


class InboxWriter:
    """Runs a CDC source in a thread and commits its batches to a SQLite hub store."""

    def __init__(self, source, store: Store) -> None:
        self.source, self.store = source, store
        self.arrivals: dict[str, tuple[float, str]] = {}  # id -> (stored at, SystemModstamp)
        self.cp: str | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for batch in self.source.read(self.cp):
                self.store.ingest("bench", self.source.name, "salesforce", "Account", batch)
                now = time.time()
                for c in batch.changes:
                    self.arrivals[c.external_id] = (now, c.payload.get("SystemModstamp"))
                self.cp = batch.checkpoint or self.cp
                if self.stop.is_set():
                    return


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise TimeoutError(what)


def bench_latency(emu, settings: dict, writes: int, workdir: Path) -> dict:
    store = Store(f"sqlite:///{workdir / 'latency.db'}")
    source = AccountSource(
        context(settings, "latency"), options(AccountSource, mode="cdc", catch_up_seconds=0.5)
    )
    source.open()
    writer = InboxWriter(source, store)
    # caught up first: the initial load is not part of the measurement
    for batch in source.read(None):
        writer.cp = batch.checkpoint or writer.cp
    writer.thread.start()
    session = requests.Session()
    session.trust_env, session.verify = False, emu.ca_path
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    url = emu.instance_url + "/services/data/v63.0/sobjects/Account"
    latencies = []
    for i in range(writes):
        resp = session.post(url, json={"Name": f"Latency {i}"}, headers=headers)
        rid = resp.json()["id"]
        wait(lambda rid=rid: rid in writer.arrivals, 30, f"event for {rid}")
        stored_at, stamp = writer.arrivals[rid]
        latencies.append((stored_at - parse_datetime(stamp).timestamp()) * 1000)
    writer.stop.set()
    writer.thread.join(10)
    source.close()
    store.close()
    latencies.sort()
    return {
        "writes": writes,
        "median_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(latencies[int(len(latencies) * 0.9) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


def bench_throughput(emu, settings: dict, events: int) -> dict:
    source = AccountSource(
        context(settings, "throughput"), options(AccountSource, mode="cdc", catch_up_seconds=2)
    )
    cp = None
    for _ in range(10):  # until a keepalive gave the stream's position
        for batch in source.read(cp):
            cp = batch.checkpoint or cp
        if SourceCheckpoint.load(cp).replay_id:
            break
    source.close()
    # written by another client: the hub's own writes would be dropped as echoes
    session = requests.Session()
    session.trust_env, session.verify = False, emu.ca_path
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    url = emu.instance_url + "/services/data/v63.0/composite/sobjects"
    for k in range(0, events, 200):
        records = [
            {"attributes": {"type": "Account"}, "Name": f"Burst {k + j}"}
            for j in range(min(200, events - k))
        ]
        body = {"allOrNone": False, "records": records}
        session.post(url, json=body, headers=headers).raise_for_status()
    fresh = AccountSource(
        context(settings, "throughput"), options(AccountSource, mode="cdc", catch_up_seconds=2)
    )
    seen = 0
    start = time.perf_counter()
    last = start
    for batch in fresh.read(cp):
        if batch.changes:
            seen += len(batch.changes)
            last = time.perf_counter()
    fresh.close()
    state = SourceCheckpoint.load(cp)
    return {
        "events": events,
        "received": seen,
        "seconds": round(last - start, 2),
        "events_per_second": round(seen / max(last - start, 1e-9)),
        "from_replay_id": state.replay_id,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--latency-writes", type=int, default=200)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_salesforce_emulator(
            Path(tmp) / "sf",
            "--daily-api-limit",
            "1000000",
            "--keepalive",
            "1",  # the stream's position arrives with the first keepalive
            timeout=60,
        ) as emu,
    ):
        emu.admin.seed(SEED)
        settings = settings_for(emu)
        figures = {"updates": bench_updates(emu, settings, args.updates)}
        print(json.dumps(figures["updates"]), flush=True)
        figures["cdc_latency"] = bench_latency(emu, settings, args.latency_writes, Path(tmp))
        print(json.dumps(figures["cdc_latency"]), flush=True)
        figures["cdc_throughput"] = bench_throughput(emu, settings, args.events)
        print(json.dumps(figures["cdc_throughput"]), flush=True)
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
