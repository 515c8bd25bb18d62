"""Scale-out benchmark: records/s with 1, 2 and 3 hub processes on one PostgreSQL store.

For each process count, in one run: a fresh database, ``--count`` records of ``demo.generator``
ingested into the inbox, then that many child processes (each an engine with ``--workers``
threads, as under ``hub run``) claim and process them at the same moment through the
``demo.noop`` sink, every audit event written. Printed per count: records/s (wall time from
the common start until the last process is idle), its ratio to one process, and the CPU the
hub processes and the PostgreSQL server used per record, which shows where the time goes.

Usage: python bench/scaleout_throughput.py --pg postgresql://postgres@127.0.0.1:5432/test
       [--count 30000] [--processes 1,2,3] [--workers 4]
Results are written to bench/results/scaleout_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).parent
CONFIG = (
    '[hub]\ndata_dir = "{work}"\nworkers = {workers}\nlog_level = "WARNING"\n'
    "[plugins.demo]\nenabled = true\n"
    '[flows.bench]\nsource = "demo.generator"\nsink = "demo.noop"\n'
    "[flows.bench.source_options]\ncount = {count}\nbatch = 1000\n"
)


def _hub(args: argparse.Namespace):
    sys.path.insert(0, str(HERE.parent))
    from hub import config as config_mod
    from hub.app import Hub

    cfg = Path(args.workdir) / "hub.toml"
    os.environ["HUB_STORE_URL"] = args.store
    hub = Hub(config_mod.load(cfg, required=True))
    hub.load_plugins()
    return hub


def child_ingest(args: argparse.Namespace) -> None:
    from hub.engine import Engine

    engine = Engine(_hub(args), ["bench"])
    engine.start()
    engine.ingest("bench")
    engine.stop()


def child_process(args: argparse.Namespace) -> None:
    from hub.engine import Engine

    engine = Engine(_hub(args), ["bench"], command="run")
    engine.start()
    time.sleep(max(0.0, args.start_at - time.time()))  # every process starts together
    t0 = time.time()
    engine.dispatch(until_idle=True)
    t1 = time.time()
    engine.stop()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    written = engine.flows["bench"].stats.written
    print(
        json.dumps({"written": written, "start": t0, "end": t1, "cpu": ru.ru_utime + ru.ru_stime})
    )


def _pg(url: str):
    import psycopg2

    p = urlparse(url)
    conn = psycopg2.connect(
        host=p.hostname, port=p.port or 5432, user=p.username, password=p.password,
        dbname=p.path.lstrip("/"),
    )  # fmt: skip
    conn.autocommit = True
    return conn


def _server_cpu(admin, datname: str) -> float:
    """CPU seconds used so far by the server processes serving ``datname`` (Linux /proc)."""
    with admin.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (datname,))
        pids = [r[0] for r in cur.fetchall()]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure(args: argparse.Namespace, n: int) -> dict:
    name = f"hub_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _pg(args.pg)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    store = urlparse(args.pg)._replace(path=f"/{name}").geturl()
    try:
        with tempfile.TemporaryDirectory() as work:
            Path(work, "hub.toml").write_text(
                CONFIG.format(work=work, workers=args.workers, count=args.count)
            )
            base = [sys.executable, __file__, "--workdir", work, "--store", store]
            subprocess.run([*base, "--child", "ingest"], check=True)
            start_at = time.time() + 3.0
            procs = [
                subprocess.Popen(
                    [*base, "--child", "process", "--start-at", str(start_at)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(n)
            ]
            # server CPU is sampled from its backends while they live (they end with the
            # children): the last sample before the end is taken once the run is under way
            time.sleep(max(0.0, start_at - time.time()))
            cpu0 = _server_cpu(admin, name)
            server_cpu = 0.0
            while any(p.poll() is None for p in procs):
                server_cpu = max(server_cpu, _server_cpu(admin, name) - cpu0)
                time.sleep(0.1)
            outs = [json.loads(p.stdout.read().strip().splitlines()[-1]) for p in procs]
            for p in procs:
                p.stdout.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
    written = sum(o["written"] for o in outs)
    seconds = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    hub_cpu = sum(o["cpu"] for o in outs)
    return {
        "processes": n,
        "written": written,
        "seconds": round(seconds, 2),
        "records_per_s": round(written / seconds),
        "per_process": [o["written"] for o in outs],
        "hub_cpu_ms_per_record": round(1000 * hub_cpu / written, 3),
        "server_cpu_ms_per_record_at_least": round(1000 * server_cpu / written, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", default=os.environ.get("HUB_BENCH_PG_URL"))
    ap.add_argument("--count", type=int, default=30000)
    ap.add_argument("--processes", default="1,2,3")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--child", choices=("ingest", "process"))
    ap.add_argument("--workdir")
    ap.add_argument("--store")
    ap.add_argument("--start-at", type=float)
    args = ap.parse_args()
    if args.child == "ingest":
        return child_ingest(args)
    if args.child == "process":
        return child_process(args)
    if not args.pg:
        ap.error("--pg or HUB_BENCH_PG_URL is required")
    rows = []
    for n in [int(x) for x in args.processes.split(",")]:
        row = measure(args, n)
        rows.append(row)
        row["ratio_to_one"] = round(row["records_per_s"] / rows[0]["records_per_s"], 2)
        print(json.dumps(row), flush=True)
    out = {"count": args.count, "workers": args.workers, "cores": os.cpu_count(), "runs": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "scaleout_throughput.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
