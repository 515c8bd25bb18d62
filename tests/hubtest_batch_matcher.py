"""A test plugin whose matcher looks a whole batch up at once (``Matcher.match_batch``)."""

from __future__ import annotations

from hub import Matcher, RecordError, hookimpl

BATCHES: list[list[str]] = []


class BatchMatcher(Matcher):
    name = "hubtest.batch_match"

    def match(self, record):  # pragma: no cover - the core must use match_batch
        raise AssertionError("match() called although match_batch() is implemented")

    def match_batch(self, records):
        BATCHES.append([r.external_id for r in records])
        return [
            RecordError("no counterpart", field="code")
            if r.payload.get("match") is False
            else {"code": f"M-{r.external_id}"}
            for r in records
        ]


@hookimpl
def hub_register_matchers(registry):
    registry.add(BatchMatcher)
