"""Engine throughput benchmark: generated source -> inbox -> no-op sink, SQLite and PostgreSQL.

Each measurement runs in a fresh child process on a fresh store. Printed figures:
- records/s through the whole engine (ingest + claim + match/map + sink + commit + audit),
  median of --repeat runs, and its ratio to the 5,000 records/s target;
- the same run's ingest-only rate (the store's write cost alone: the in-run baseline);
- peak RSS at 25%, 50% and 100% of --count, to show memory stays flat as the count grows;
- status / audit query times over a store holding --audit-events audit events.

Usage: python bench/engine_throughput.py [--count 100000] [--repeat 3] [--pg URL]
Results are also written to bench/results/engine_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 5000.0
HERE = Path(__file__).parent


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE.parent))
    from hub import config as config_mod
    from hub.app import Hub
    from hub.engine import Engine

    work = Path(args.workdir)
    cfg = work / "hub.toml"
    cfg.write_text(
        f'[hub]\ndata_dir = "{work}"\nworkers = {args.workers}\nlog_level = "WARNING"\n'
        "[plugins.demo]\nenabled = true\n"
        '[flows.bench]\nsource = "demo.generator"\nsink = "demo.noop"\n'
        f"[flows.bench.source_options]\ncount = {args.count}\nbatch = 1000\n"
    )
    os.environ["HUB_STORE_URL"] = args.store
    hub = Hub(config_mod.load(cfg, required=True))
    hub.load_plugins()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = Engine(hub, ["bench"])
    engine.start()
    t0 = time.perf_counter()
    engine.ingest("bench")
    t_ingest = time.perf_counter() - t0
    engine.dispatch(until_idle=True)
    total = time.perf_counter() - t0
    engine.stop()
    done = engine.flows["bench"].stats.written
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "count": args.count,
        "written": done,
        "seconds": total,
        "ingest_seconds": t_ingest,
        "rss_start_mb": rss0,
        "rss_peak_mb": rss,
    }
    if args.audit_events:
        out.update(query_times(hub, args.audit_events))
    print(json.dumps(out))


def query_times(hub, target_events: int) -> dict:
    """Pad the audit table to ``target_events`` rows, then time the queries users run."""
    from hub.store.models import AuditEvent, InboxRecord

    store = hub.store
    have = AuditEvent.select().count()
    rows, rid = [], 1
    while have < target_events:
        n = min(20000, target_events - have)
        rows = [
            (rid + i % 1000, "bench", f"ORD-{i:07d}", "matched", 1, time.time(), 0.1, None)
            for i in range(n)
        ]
        with store.transaction():
            store._insert_audit(rows)
        have += n
        rid += 1000
    timings = {}

    def timed(name, fn, reps=7):
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t) * 1000)
        timings[name] = statistics.median(ts)

    some = InboxRecord.select(InboxRecord.id).order_by(InboxRecord.id.desc()).limit(1).scalar()
    timed("status_counts_ms", store.counts)
    timed("status_oldest_live_ms", store.oldest_live)
    timed("audit_timeline_ms", lambda: store.timeline([some]))
    timed("audit_by_external_id_ms", lambda: store.record_ids("ORD-0050000"))
    timed("replay_select_parked_ms", lambda: store.find_records(flow="bench", status="parked"))
    timings["audit_events"] = AuditEvent.select().count()
    return timings


def run_child(store: str, count: int, workers: int, audit_events: int = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as work:
        url = store if store != "sqlite" else f"sqlite:///{work}/hub.db"
        if url.startswith("postgres"):
            reset_pg(url)
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--workdir",
            work,
            "--store",
            url,
            "--count",
            str(count),
            "--workers",
            str(workers),
            "--audit-events",
            str(audit_events),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise SystemExit(f"benchmark child failed:\n{res.stderr}")
        return json.loads(res.stdout.strip().splitlines()[-1])


def reset_pg(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg2

    p = urlparse(url)
    conn = psycopg2.connect(
        host=p.hostname,
        port=p.port or 5432,
        user=p.username,
        password=p.password,
        dbname=p.path.lstrip("/"),
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename LIKE 'hub_%'"
        )
        for (t,) in cur.fetchall():
            cur.execute(f'DROP TABLE "{t}" CASCADE')
    conn.close()


def bench_store(name: str, store: str, args: argparse.Namespace) -> dict:
    runs = [run_child(store, args.count, args.workers) for _ in range(args.repeat)]
    rates = [r["written"] / r["seconds"] for r in runs]
    ingest = [r["count"] / r["ingest_seconds"] for r in runs]
    scale = {}
    for frac in (0.25, 0.5):
        n = int(args.count * frac)
        scale[n] = run_child(store, n, args.workers)["rss_peak_mb"]
    scale[args.count] = statistics.median(r["rss_peak_mb"] for r in runs)
    q = run_child(store, min(args.count, 100000), args.workers, audit_events=args.audit_events)
    result = {
        "store": name,
        "count": args.count,
        "repeat": args.repeat,
        "records_per_s_median": round(statistics.median(rates)),
        "records_per_s_all": [round(r) for r in rates],
        "ratio_to_target": round(statistics.median(rates) / TARGET, 2),
        "ingest_only_records_per_s_median": round(statistics.median(ingest)),
        "engine_to_ingest_ratio": round(statistics.median(rates) / statistics.median(ingest), 2),
        "peak_rss_mb_by_count": {str(k): round(v, 1) for k, v in sorted(scale.items())},
        "rss_growth_ratio_full_vs_quarter": round(
            scale[args.count] / scale[int(args.count * 0.25)], 2
        ),
        "queries_with_audit_events": {
            k: (round(v, 2) if isinstance(v, float) else v)
            for k, v in q.items()
            if k.endswith("_ms") or k == "audit_events"
        },
    }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--audit-events", type=int, default=1000000)
    ap.add_argument(
        "--pg",
        default=os.environ.get("HUB_BENCH_PG_URL"),
        help="PostgreSQL URL (a database the benchmark may fill and empty)",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    results = []
    targets = [("sqlite", "sqlite")] + ([("postgresql", args.pg)] if args.pg else [])
    for name, store in targets:
        print(f"== {name}: {args.count} records x {args.repeat} runs ...", flush=True)
        r = bench_store(name, store, args)
        results.append(r)
        print(json.dumps(r, indent=2), flush=True)
    out = HERE / "results" / "engine_throughput.json"
    out.parent.mkdir(exist_ok=True)
    meta = {
        "machine": f"{os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
        "target_records_per_s": TARGET,
    }
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    for r in results:
        verdict = "meets" if r["records_per_s_median"] >= TARGET else "MISSES"
        print(
            f"{r['store']}: {r['records_per_s_median']} records/s median "
            f"({r['ratio_to_target']}x the target: {verdict}); "
            f"peak RSS {r['peak_rss_mb_by_count']} MB"
        )


if __name__ == "__main__":
    main()
