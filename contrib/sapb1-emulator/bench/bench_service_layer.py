"""Throughput of the emulator over HTTPS with 50 concurrent connections held open.

Starts a real emulator subprocess with 100,000 generated business partners, then measures:
- keyed GETs: ``GET BusinessPartners('C0xxxxx')`` on random keys;
- paged queries: ``GET BusinessPartners?$filter=...&$select=...&$skip=N`` pages of 20 at random
  offsets over the whole set, and unfiltered pages following ``@odata.nextLink``.
Each phase runs ``--rounds`` times for ``--seconds``; figures are medians over the rounds, with
the ratio to the target (500 keyed GETs/s, 200 pages/s).

    python bench/bench_service_layer.py [--partners 100000] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp

from mlc_sapb1_emulator.testing import SapB1Emulator

TARGETS = {"keyed GET": 500.0, "filtered page": 200.0, "nextLink page": 200.0}
CONNECTIONS = 50


async def _login(session: aiohttp.ClientSession, base: str) -> None:
    async with session.post(base + "Login", json={
            "CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"}) as r:
        r.raise_for_status()
        await r.read()


def _keyed(n: int):
    def url() -> str:
        return f"BusinessPartners('C{random.randint(1, n):06d}')"
    return url


def _filtered(n: int):
    def url() -> str:
        skip = random.randrange(0, int(n * 0.9) // 20) * 20
        return ("BusinessPartners?$filter=CardType%20eq%20'C'%20and%20CreditLimit%20ge%200"
                f"&$select=CardCode,CardName,UpdateDate,UpdateTime&$skip={skip}")
    return url


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _client(base: str, ca: str, seconds: float, phase: str, n: int,
                  connections: int) -> tuple[list[float], int, float]:
    """One client process's share of a phase: (latencies, errors, elapsed)."""
    make_url = {"keyed GET": _keyed(n), "filtered page": _filtered(n),
                "nextLink page": lambda: "BusinessPartners"}[phase]
    follow_next = phase == "nextLink page"
    ctx = ssl.create_default_context(cafile=ca)
    connector = aiohttp.TCPConnector(limit=connections, ssl=ctx)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        await _login(session, base)
        latencies: list[float] = []
        errors = 0
        stop_at = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal errors
            link = None
            while time.monotonic() < stop_at:
                url = link or make_url()
                t0 = time.perf_counter()
                async with session.get(base + url) as r:
                    body = await r.json(content_type=None)
                    if r.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)
                if follow_next:
                    link = body.get("@odata.nextLink")

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return latencies, errors, time.monotonic() - start


def _client_process(args: tuple) -> tuple[list[float], int, float]:
    return asyncio.run(_client(*args))


def _phase(pool, emu: SapB1Emulator, seconds: float, phase: str, n: int, procs: int) -> dict:
    share = CONNECTIONS // procs
    jobs = [(emu.base_url, str(emu.ca_path), seconds, phase, n, share)] * procs
    start, cpu0 = time.monotonic(), _cpu_seconds(emu.process.pid)
    parts = list(pool.map(_client_process, jobs))
    elapsed = time.monotonic() - start
    cpu = _cpu_seconds(emu.process.pid) - cpu0
    latencies = sorted(lat for part in parts for lat in part[0])
    run = max(part[2] for part in parts)
    return {"rate": len(latencies) / run, "requests": len(latencies),
            "errors": sum(part[1] for part in parts),
            "per_cpu_s": len(latencies) / max(cpu, 1e-6), "server_cpu": cpu / elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)]}


def _run(emu: SapB1Emulator, n: int, seconds: float, rounds: int, procs: int) -> dict:
    results: dict[str, list[dict]] = {name: [] for name in TARGETS}
    with ProcessPoolExecutor(procs) as pool:
        _phase(pool, emu, 2.0, "filtered page", n, procs)  # warm up and fill the query cache
        for _ in range(rounds):
            for name in TARGETS:
                results[name].append(_phase(pool, emu, seconds, name, n, procs))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="client processes sharing the 50 connections")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        emu = SapB1Emulator(Path(tmp), ["--fresh", "--generate",
                                        f"business_partners={args.partners},items=100"])
        t0 = time.monotonic()
        emu.start(timeout=600)
        startup = time.monotonic() - t0
        try:
            results = _run(emu, args.partners, args.seconds, args.rounds, args.client_processes)
        finally:
            emu.stop()
    print(f"business partners: {args.partners}, connections: {CONNECTIONS} "
          f"from {args.client_processes} client processes, "
          f"rounds: {args.rounds} x {args.seconds:.0f} s, startup incl. generation: "
          f"{startup:.1f} s")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    print(f"{'phase':<15}{'median/s':>10}{'target':>8}{'ratio':>7}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'errors':>8}{'/srv-cpu-s':>11}{'srv cores':>10}  rounds/s")
    for name, runs in results.items():
        rate = statistics.median(r["rate"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p95 = statistics.median(r["p95_ms"] for r in runs)
        errs = sum(r["errors"] for r in runs)
        per_cpu = statistics.median(r["per_cpu_s"] for r in runs)
        cores = statistics.median(r["server_cpu"] for r in runs)
        each = ", ".join(f"{r['rate']:.0f}" for r in runs)
        print(f"{name:<15}{rate:>10.0f}{TARGETS[name]:>8.0f}{rate / TARGETS[name]:>7.1f}"
              f"{p50:>8.1f}{p95:>8.1f}{errs:>8}{per_cpu:>11.0f}{cores:>10.2f}  {each}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
