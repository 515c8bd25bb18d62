"""The demo plugin's sources, matchers, mappings and sinks."""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hub import (
    Change,
    ChangeBatch,
    Mapping,
    Matcher,
    Record,
    RecordError,
    Setting,
    Sink,
    SinkItem,
    Source,
    WriteResult,
)

UNKNOWN_CUSTOMER = "C9999"


class GeneratedOrders(Source):
    """Generates ``count`` orders; the checkpoint is the number generated so far."""

    name = "demo.generator"
    system = "demo"
    object_type = "Order"
    options = {
        "count": Setting(int, default=100, minimum=0, help="orders to generate in all"),
        "customers": Setting(int, default=5, minimum=1, help="customers C0001.. to spread over"),
        "unknown_every": Setting(int, default=0, minimum=0, help="every Nth order names C9999"),
        "invalid_every": Setting(
            int, default=0, minimum=0, help="every Nth order has a bad amount"
        ),
        "batch": Setting(int, default=1000, minimum=1),
        "seed": Setting(int, default=7),
    }

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        start = int(checkpoint or 0)
        o = self.opts
        rng = random.Random(o["seed"] + start)
        changes: list[Change] = []
        for i in range(start + 1, o["count"] + 1):
            customer = f"C{1 + i % o['customers']:04d}"
            if o["unknown_every"] and i % o["unknown_every"] == 0:
                customer = UNKNOWN_CUSTOMER
            amount: Any = round(rng.uniform(10, 5000), 2)
            if o["invalid_every"] and i % o["invalid_every"] == 0:
                amount = "n/a"
            changes.append(
                Change(
                    f"ORD-{i:07d}",
                    {
                        "order": f"ORD-{i:07d}",
                        "customer": customer,
                        "amount": amount,
                        "currency": "EUR",
                    },
                )
            )
            if len(changes) >= o["batch"]:
                yield ChangeBatch(changes, checkpoint=str(i))
                changes = []
                if self.context.stopping.is_set():
                    return
        if changes:
            yield ChangeBatch(changes, checkpoint=str(o["count"]))


class CustomerLookup(Matcher):
    """Finds the account of an order's customer in a CSV table (``customer,account``)."""

    name = "demo.customer_lookup"
    options = {
        "table": Setting(str, help="CSV file with columns customer,account; default: C0001..C0099"),
    }

    def open(self) -> None:
        self._cache: tuple[float, dict[str, str]] | None = None

    def _table(self) -> dict[str, str]:
        path = self.opts.get("table")
        if not path:
            return {f"C{i:04d}": f"ACC-{i:04d}" for i in range(1, 100)}
        mtime = os.stat(path).st_mtime
        if self._cache is None or self._cache[0] != mtime:  # re-read once the file changes
            with open(path, newline="", encoding="utf-8") as fh:
                table = {r["customer"].strip(): r["account"].strip() for r in csv.DictReader(fh)}
            self._cache = (mtime, table)
        return self._cache[1]

    def match(self, record: Record) -> dict[str, Any]:
        code = record.payload.get("customer")
        if not code:
            raise RecordError("no customer given", field="customer")
        accounts = self._table()  # an operator may fix the table, then replay
        if code not in accounts:
            where = self.opts.get("table") or "the built-in table"
            raise RecordError(f"no account for customer {code!r} in {where}", field="customer")
        return {"account": accounts[code]}


class OrderMapping(Mapping):
    """Checks an order and shapes it for the sinks."""

    name = "demo.order"

    def map(self, record: Record, match: dict[str, Any]) -> dict[str, Any]:
        amount = record.payload.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise RecordError(f"expected a number, got {amount!r}", field="amount")
        if amount < 0:
            raise RecordError(f"must not be negative, got {amount}", field="amount")
        return {
            "reference": record.payload["order"],
            "account": match.get("account"),
            "total": amount,
            "currency": record.payload.get("currency", "EUR"),
        }


class NoopSink(Sink):
    """Accepts everything and writes nothing (benchmarks, trying a flow)."""

    name = "demo.noop"
    system = "demo-noop"
    object_type = "Order"
    batch_size = 500

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        return [WriteResult(target_id=i.record.external_id) for i in items]


class DirectorySink(Sink):
    """Writes each record as ``<path>/<external id>.json``; rewriting is an idempotent upsert."""

    name = "demo.directory"
    system = "demo-directory"
    object_type = "Order"
    batch_size = 100
    options = {"path": Setting(str, required=True, help="directory to write records into")}

    def open(self) -> None:
        self.path = Path(self.opts["path"]).expanduser()
        self.path.mkdir(parents=True, exist_ok=True)

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        results = []
        for item in items:
            name = "".join(
                ch if ch.isalnum() or ch in "-_." else "_" for ch in item.record.external_id
            )
            target = self.path / f"{name}.json"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(item.payload, indent=2, sort_keys=True), encoding="utf-8")
            os.replace(tmp, target)
            action = "update" if item.target_id else "create"
            results.append(
                WriteResult(target_id=name, summary={"action": action, "file": str(target)})
            )
        return results
