"""What the reference-data sinks share: the connection, describe, and collection writes.

``CollectionWriter`` creates (``POST composite/sobjects``) and updates (``PATCH
composite/sobjects``) records 200 a call with ``allOrNone: false``, and turns each answer
into a hub ``WriteResult`` tied to the item it came from (see ``sinks.result_of``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from hub import ConfigError, RetriableError, Sink, TargetField, WriteResult

from .describe import target_fields
from .org import connect
from .rest import COLLECTION_SIZE, SalesforceRest
from .sinks import result_of

T = TypeVar("T")


def chunks(values: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CollectionWriter:
    def __init__(self, rest: SalesforceRest, sobject: str) -> None:
        self.rest = rest
        self.sobject = sobject
        self.calls = 0

    def create(self, pairs: list[tuple[int, dict]]) -> list[tuple[int, WriteResult]]:
        return self._send("POST", pairs)

    def update(self, pairs: list[tuple[int, dict]]) -> list[tuple[int, WriteResult]]:
        return self._send("PATCH", pairs)

    def _send(self, method: str, pairs: list[tuple[int, dict]]) -> list[tuple[int, WriteResult]]:
        out: list[tuple[int, WriteResult]] = []
        how = f"{method} composite/sobjects"
        for chunk in chunks(pairs, COLLECTION_SIZE):
            records = [r for _, r in chunk]
            body = {"allOrNone": False, "records": records}
            answers = self.rest.request(method, "composite/sobjects", json=body) or []
            self.calls += 1
            if len(answers) != len(records):
                error = RetriableError(f"{how}: {len(answers)} results for {len(records)}")
                out += [(i, WriteResult(error=error)) for i, _ in chunk]
                continue
            for (i, record), answer in zip(chunk, answers, strict=True):
                sobject = record.get("attributes", {}).get("type", self.sobject)
                res = result_of(None, answer, sobject, how)  # type: ignore[arg-type]
                if res.target_id is None and record.get("Id") and res.error is None:
                    res.target_id = record["Id"]
                out.append((i, res))
        return out


class SalesforceWriteSink(Sink):
    """A sink writing one object: connection, describe check, field catalogue."""

    system = "salesforce"
    batch_size = 200
    sobject = ""

    def open(self) -> None:
        self.conn = connect(self.context.settings)
        if not self.conn.rest.has_object(self.sobject):
            raise ConfigError(
                f"flow {self.context.flow}: the org has no {self.sobject} object ({self.name})"
            )
        self.describe_fields()  # read once here (cached), not in the middle of a write

    def _ensure_open(self) -> None:
        if not hasattr(self, "conn"):
            self.open()

    def describe_fields(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.conn.rest.describe(self.sobject).get("fields", [])}

    def target_fields(self) -> dict[str, TargetField] | None:
        """The object's fields from describe: this sink creates and updates, so a field the
        integration user may create or update is writable."""
        self._ensure_open()
        return target_fields(self.conn.rest, self.sobject)
