"""Benchmark the Salesforce emulator: keyed REST reads, collection upserts, CDC streaming.

    python bench/bench_emulator.py [--rounds 5] [--accounts 5000]

Starts a real emulator subprocess (HTTPS + gRPC/TLS on free loopback ports), seeds it with
generated data, and prints the median of several rounds for each figure together with its
ratio to the target. Client and server share the machine, so the figures are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import grpc

from mlc_salesforce_emulator.proto import pubsub_api_pb2 as pb
from mlc_salesforce_emulator.proto import pubsub_api_pb2_grpc as pb_grpc
from mlc_salesforce_emulator.testing import run_salesforce_emulator

TARGETS = {"keyed_reads_per_s": 500, "soql_keyed_reads_per_s": 500,
           "collection_upserts_per_s": 20, "events_streamed_per_s": 2000,
           "events_live_per_s": 2000}


async def keyed_reads(http, base, headers, ids, seconds: float, concurrency: int,
                      soql: bool) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int):
        nonlocal done
        i = offset
        while time.perf_counter() < stop:
            rid, code = ids[i % len(ids)]
            if soql:
                url = base + "query"
                params = {"q": f"SELECT Id, Name FROM Account WHERE SAP_CardCode__c = '{code}'"}
            else:
                url, params = base + f"sobjects/Account/{rid}", None
            async with http.get(url, params=params, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            done += 1
            i += concurrency

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done / (time.perf_counter() - start)


def upsert_bodies(calls: int, round_no: int, accounts: int) -> list[bytes]:
    """Pre-encoded 200-record upserts: half update seeded accounts, half create new ones."""
    bodies = []
    for n in range(calls):
        records = [{"attributes": {"type": "Account"}, "Name": f"Bench {round_no}-{n}-{k}",
                    "SAP_CardCode__c": f"C{20000 + (n * 100 + k) % accounts:06d}" if k % 2
                    else f"B{round_no}-{n}-{k}"} for k in range(200)]
        bodies.append(json.dumps({"allOrNone": False, "records": records}).encode())
    return bodies


async def collection_upserts(http, base, headers, bodies: list[bytes],
                             concurrency: int) -> float:
    url = base + "composite/sobjects/Account/SAP_CardCode__c"
    queue = list(bodies)
    headers = {**headers, "Content-Type": "application/json"}

    async def worker():
        while queue:
            body = queue.pop()
            async with http.patch(url, data=body, headers=headers) as resp:
                results = await resp.json()
                assert resp.status == 200 and all(r["success"] for r in results), results[:1]

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(bodies) / (time.perf_counter() - start)


class ServerCpu:
    """CPU seconds used by the emulator process (Linux /proc), to report cost per call."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        fields = self.path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick


async def stream_events(emu, token: str, expected: int, preset=pb.EARLIEST,
                        ready: asyncio.Event | None = None) -> float:
    creds = grpc.ssl_channel_credentials(Path(emu.ca_path).read_bytes())
    metadata = (("accesstoken", token), ("instanceurl", emu.instance_url),
                ("tenantid", emu.org_id))
    async with grpc.aio.secure_channel(emu.grpc_target, creds) as channel:
        stub = pb_grpc.PubSubStub(channel)
        requests: asyncio.Queue = asyncio.Queue()
        await requests.put(pb.FetchRequest(topic_name="/data/AccountChangeEvent",
                                           replay_preset=preset, num_requested=100))

        async def request_stream():
            while True:
                item = await requests.get()
                if item is None:
                    return
                yield item

        call = stub.Subscribe(request_stream(), metadata=metadata)
        got = 0
        start = None
        async for resp in call:
            if ready is not None:
                ready.set()
            if resp.events:
                start = start or time.perf_counter()
                got += len(resp.events)
                # ask again for as many as were delivered, so demand never runs dry
                await requests.put(pb.FetchRequest(num_requested=len(resp.events)))
            if got >= expected:
                break
        elapsed = time.perf_counter() - start
        call.cancel()
        await requests.put(None)
        return got / elapsed


async def bench(emu, rounds: int, accounts: int) -> dict:
    token_info = emu.token()
    headers = {"Authorization": f"Bearer {token_info['access_token']}"}
    base = emu.instance_url + "/services/data/v63.0/"
    ctx = ssl.create_default_context(cafile=emu.ca_path)
    connector = aiohttp.TCPConnector(ssl=ctx, limit=16)
    figures: dict[str, list[float]] = {k: [] for k in TARGETS}
    cost: dict[str, list[float]] = {k: [] for k in TARGETS}
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(base + "query", headers=headers, params={
                "q": "SELECT Id, SAP_CardCode__c FROM Account"}) as resp:
            page = await resp.json()
        ids = [(r["Id"], r["SAP_CardCode__c"]) for r in page["records"]]
        while not page["done"]:
            async with http.get(emu.instance_url + page["nextRecordsUrl"],
                                headers=headers) as resp:
                page = await resp.json()
            ids += [(r["Id"], r["SAP_CardCode__c"]) for r in page["records"]]
        assert len(ids) == accounts
        cpu = ServerCpu(emu.process.pid)
        for r in range(rounds):
            for name, soql in (("keyed_reads_per_s", False), ("soql_keyed_reads_per_s", True)):
                before = cpu.seconds()
                rate = await keyed_reads(http, base, headers, ids, 3.0, 8, soql=soql)
                figures[name].append(rate)
                cost[name].append((cpu.seconds() - before) * 1000 / (rate * 3.0))
            bodies = upsert_bodies(40, r, accounts)
            before = cpu.seconds()
            figures["collection_upserts_per_s"].append(
                await collection_upserts(http, base, headers, bodies, 2))
            cost["collection_upserts_per_s"].append((cpu.seconds() - before) * 1000 / 40)
    events = rounds * 40 * 200
    for _ in range(rounds):
        figures["events_streamed_per_s"].append(
            await stream_events(emu, token_info["access_token"], events))
    # live: one subscriber on LATEST while 20 collection upserts (4,000 changes) are written
    connector = aiohttp.TCPConnector(ssl=ctx, limit=16)
    async with aiohttp.ClientSession(connector=connector) as http:
        for r in range(rounds):
            ready = asyncio.Event()
            subscriber = asyncio.create_task(stream_events(
                emu, token_info["access_token"], 20 * 200, pb.LATEST, ready))
            await asyncio.wait_for(ready.wait(), 60)
            t0 = time.perf_counter()
            await collection_upserts(http, base, headers, upsert_bodies(20, 100 + r, accounts), 2)
            t1 = time.perf_counter()
            figures["events_live_per_s"].append(await asyncio.wait_for(subscriber, 120))
            if os.environ.get("BENCH_DEBUG"):
                print(f"writes {t1 - t0:.2f}s, last event {time.perf_counter() - t0:.2f}s")
    return figures, cost


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the Salesforce emulator")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, run_salesforce_emulator(
            Path(tmp), "--daily-api-limit", "100000000", "--keepalive", "1") as emu:
        emu.admin.post("/emulator/generate", {"accounts": args.accounts,
                                              "opportunities_per_account": 1,
                                              "lines_per_opportunity": 2, "products": 50})
        figures, cost = asyncio.run(bench(emu, args.rounds, args.accounts))
    print(f"# {platform.node()} {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{args.rounds} rounds, {args.accounts} accounts seeded")
    report = {}
    for name, values in figures.items():
        median = statistics.median(values)
        server_ms = statistics.median(cost[name]) if cost[name] else None
        report[name] = {"median": round(median, 1), "min": round(min(values), 1),
                        "max": round(max(values), 1), "target": TARGETS[name],
                        "ratio_to_target": round(median / TARGETS[name], 2),
                        "server_cpu_ms_per_call": server_ms and round(server_ms, 2)}
        per_call = f"  server CPU {server_ms:.2f} ms/call" if server_ms else ""
        print(f"{name:24s} median {median:9.1f}  (min {min(values):.1f}, max {max(values):.1f})"
              f"  target {TARGETS[name]:5d}  ratio {median / TARGETS[name]:.2f}x{per_call}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
