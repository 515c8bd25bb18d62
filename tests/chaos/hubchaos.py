"""Chaos test of several `hub run` processes on one PostgreSQL store.

Three `hub run` processes share a store; a generated source grows to N records while a sink
records every write it receives (with a small delay). A random process is killed with SIGKILL
at random moments (every other kill aimed at the process reading the source, so takeovers are
measured) and restarted at once. At the end every record must be done exactly once in
the store, none missing, each with a complete audit trail and one link to its target; the sink
calls made twice (the price of at-least-once after a kill in mid-write) are counted.

    python tests/chaos/hubchaos.py --pg postgresql://postgres@127.0.0.1:5432/test \\
        [--records 5000] [--kills 20] [--processes 3] [--seed N]

Each run works in a database of its own, created on that server and dropped at the end.
Prints the figures and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from hubtesting import HubEnv, pg_connect, reset_pg  # noqa: E402


class Fleet:
    """The `hub run` processes, each restartable in its slot."""

    def __init__(self, env: HubEnv, size: int) -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = [self._start(i) for i in range(size)]

    def _start(self, slot: int) -> subprocess.Popen:
        log = open(self.env.root / f"hub-{slot}.log", "a")  # noqa: SIM115 - child's stderr
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "hub", "run"],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.env.env(),
                cwd=self.env.root,
            )
        finally:
            log.close()

    def kill_and_restart(self, slot: int) -> int:
        victim = self.procs[slot]
        victim.kill()
        victim.wait(30)
        self.procs[slot] = self._start(slot)
        return victim.pid

    def stop(self) -> list[int]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(60))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait(10))
        return codes


class Db:
    def __init__(self, url: str) -> None:
        self.conn = pg_connect(url)

    def one(self, sql: str, *params):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone()
        except Exception:  # the store's tables do not exist yet
            return None

    def all(self, sql: str, *params) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def holder_pid(self) -> int | None:
        row = self.one(
            "SELECT holder FROM hub_source_lease WHERE holder IS NOT NULL"
            " AND expires_at >= EXTRACT(EPOCH FROM clock_timestamp())"
        )
        return int(row[0].split(":")[1]) if row else None

    def done(self) -> int:
        row = self.one("SELECT COUNT(*) FROM hub_inbox WHERE status = 'done'")
        return row[0] if row else 0


def _generate(env: HubEnv, records: int, seconds: float, stop: threading.Event) -> None:
    """The source grows to ``records`` changes over about ``seconds``."""
    steps = 20
    per = -(-records // steps)
    for start in range(0, records, per):
        rows = [
            {"id": f"K{i:05d}", "payload": {"i": i, "name": f"thing {i}"}}
            for i in range(start, min(records, start + per))
        ]
        env.write_changes(rows, append=True)
        if stop.wait(seconds / steps):
            return


def run_chaos(
    pg_url: str,
    root: Path,
    *,
    records: int = 5000,
    kills: int = 20,
    processes: int = 3,
    seed: int | None = None,
    sink_delay: float = 0.02,
    lease_seconds: float = 3.0,
    deadline: float = 600.0,
) -> dict:
    """Run the chaos test; returns its figures and the list of failed checks."""
    seed = seed if seed is not None else random.randrange(1 << 30)  # reported: reproducible
    rng = random.Random(seed)
    reset_pg(pg_url)
    root.mkdir(parents=True, exist_ok=True)
    env = HubEnv(root, pg_url)
    env.write_config(
        flow={
            "poll_interval": 0.2,
            "source_options": {"batch": 100},
            "sink_options": {"delay": sink_delay, "batch_size": 10},
        },
        hub_extra=f"lease_seconds = {lease_seconds}",
    )
    env.config.write_text(env.config.read_text().replace("workers = 4", "workers = 2"))
    db = Db(pg_url)
    stop = threading.Event()
    t0 = time.monotonic()
    fleet = Fleet(env, processes)
    spread = max(5.0, records / 400)  # kills and generation span about this long
    gen = threading.Thread(target=_generate, args=(env, records, spread, stop), daemon=True)
    gen.start()
    takeovers: list[float] = []
    kill_log = []
    try:
        while db.holder_pid() is None and time.monotonic() - t0 < 60:
            time.sleep(0.05)  # the fleet is up: one of them reads the source
        for n in range(kills):
            time.sleep(rng.uniform(0.2, 2 * spread / kills))  # a random moment
            holder = db.holder_pid()
            slot = rng.randrange(processes)
            pids = [p.pid for p in fleet.procs]
            if n % 2 == 0 and holder in pids:  # every other kill hits the source's reader
                slot = pids.index(holder)
            t_kill = time.monotonic()
            pid = fleet.kill_and_restart(slot)
            kill_log.append({"at": round(t_kill - t0, 2), "pid": pid, "held_source": pid == holder})
            if pid == holder:  # how long until another process reads the source
                while time.monotonic() - t_kill < 4 * lease_seconds + 10:
                    now_holder = db.holder_pid()
                    if now_holder is not None and now_holder != pid:
                        takeovers.append(time.monotonic() - t_kill)
                        break
                    time.sleep(0.01)
        gen.join()
        while db.done() < records and time.monotonic() - t0 < deadline:
            time.sleep(0.2)
        # a process restarted a moment ago must be up (its signal handlers set) before SIGTERM
        started = time.monotonic()
        while time.monotonic() - started < 30:
            live = {pid for (pid,) in db.all("SELECT pid FROM hub_engine_lease")}
            if {p.pid for p in fleet.procs} <= live:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        codes = fleet.stop()
    elapsed = time.monotonic() - t0
    figures = _check(db, env, records)
    db.conn.close()
    figures.update(
        kills=len(kill_log),
        takeovers=len(takeovers),
        takeover_median_s=round(statistics.median(takeovers), 3) if takeovers else None,
        takeover_max_s=round(max(takeovers), 3) if takeovers else None,
        exit_codes=codes,
        seconds=round(elapsed, 1),
        records=records,
        processes=processes,
        seed=seed,
    )
    if any(codes):
        figures["failures"].append(f"a process exited with {codes} on SIGTERM")
    return figures


def _check(db: Db, env: HubEnv, records: int) -> dict:
    failures = []
    expected = {f"K{i:05d}" for i in range(records)}
    rows = db.all("SELECT external_id, status FROM hub_inbox")
    stored = Counter(ext for ext, _ in rows)
    if set(stored) != expected:
        failures.append(f"{len(expected - set(stored))} record(s) missing from the store")
    doubled = [ext for ext, n in stored.items() if n > 1]
    if doubled:
        failures.append(f"{len(doubled)} change(s) stored twice, e.g. {doubled[:3]}")
    not_done = Counter(status for _, status in rows if status != "done")
    if not_done:
        failures.append(f"records not done: {dict(not_done)}")
    steps = db.all("SELECT external_id, step, COUNT(*) FROM hub_audit GROUP BY external_id, step")
    trail: dict[str, dict[str, int]] = {}
    for ext, step, n in steps:
        trail.setdefault(ext, {})[step] = n
    incomplete = [
        ext
        for ext in expected
        if trail.get(ext, {}).get("received") != 1
        or trail.get(ext, {}).get("written") != 1
        or not trail.get(ext, {}).get("matched")
    ]
    if incomplete:
        sample = {ext: trail.get(ext) for ext in sorted(incomplete)[:3]}
        failures.append(f"{len(incomplete)} record(s) without a complete audit trail: {sample}")
    links = dict(db.all("SELECT source_id, target_id FROM hub_link"))
    wrong = [ext for ext in expected if links.get(ext) != f"T-{ext}"]
    if wrong:
        failures.append(f"{len(wrong)} record(s) without exactly their one target")
    calls = Counter(w["id"] for w in env.writes())
    never = expected - set(calls)
    if never:
        failures.append(f"{len(never)} record(s) never reached the sink")
    return {
        "sink_calls": sum(calls.values()),
        "duplicate_sink_calls": sum(n - 1 for n in calls.values() if n > 1),
        "records_written_twice_by_the_sink": sum(1 for n in calls.values() if n > 1),
        "failures": failures,
    }


@contextmanager
def scratch_database(server_url: str):
    """A new database on the server ``server_url`` points at; dropped afterwards."""
    name = f"hub_chaos_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = pg_connect(server_url)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--pg",
        default=os.environ.get("HUB_TEST_PG_URL"),
        help="PostgreSQL server URL (a scratch database is created there)",
    )
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--runs", type=int, default=1, help="repeat the whole test")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--dir", default="/tmp/hub-chaos", help="working folder (logs, sink)")
    args = ap.parse_args(argv)
    if not args.pg:
        ap.error("--pg or HUB_TEST_PG_URL is required")
    failed = 0
    for n in range(args.runs):
        seed = args.seed if args.seed is not None else random.randrange(1 << 30)
        root = Path(args.dir) / f"run-{n + 1}-{seed}"
        with scratch_database(args.pg) as url:
            figures = run_chaos(
                url,
                root,
                records=args.records,
                kills=args.kills,
                processes=args.processes,
                seed=seed,
            )
        print(json.dumps(figures), flush=True)
        failed += bool(figures["failures"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
