"""SOQL polling on ``SystemModstamp``: for objects without CDC, and for reconciliation.

Each pass reads ``SystemModstamp >= watermark - overlap ORDER BY SystemModstamp, Id`` through
``queryAll`` (deleted records arrive as deletes), following ``nextRecordsUrl``. Many records
can share one timestamp and commits can land late, so the pass starts ``overlap_seconds`` before
the watermark and drops what it already read (the same id with the same ``SystemModstamp``).
Every page is one batch whose checkpoint (watermark and the ids seen in the overlap window) is
stored by the core with the page's changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from hub import ChangeBatch

from .checkpoint import SourceCheckpoint
from .records import RecordReader
from .soql import datetime_literal, parse_datetime

log = logging.getLogger(__name__)


class ModstampPoller:
    def __init__(self, reader: RecordReader, overlap_seconds: float) -> None:
        self.reader = reader
        self.overlap = timedelta(seconds=overlap_seconds)

    def start_literal(self, cp: SourceCheckpoint) -> str | None:
        if not cp.watermark:
            return None
        return datetime_literal(parse_datetime(cp.watermark) - self.overlap)

    def poll(self, cp: SourceCheckpoint) -> Iterator[ChangeBatch]:
        """Yield one batch per page; ``cp`` is updated in place (its other keys are kept)."""
        for page in self.reader.since(self.start_literal(cp)):
            changes = []
            for rec in page:
                stamp = rec.get("SystemModstamp")
                if stamp and cp.seen.get(rec["Id"]) == stamp:
                    continue  # read before, inside the overlap window
                changes.append(self.reader.to_change(rec))
                if stamp:
                    cp.seen[rec["Id"]] = stamp
                    moment = parse_datetime(stamp)
                    if cp.watermark is None or moment > parse_datetime(cp.watermark):
                        cp.watermark = moment.isoformat().replace("+00:00", "Z")
            self._prune(cp)
            if changes or page:
                yield ChangeBatch(changes, checkpoint=cp.dump())

    def _prune(self, cp: SourceCheckpoint) -> None:
        if not cp.watermark:
            return
        horizon = parse_datetime(cp.watermark) - self.overlap - timedelta(seconds=1)
        cp.seen = {i: s for i, s in cp.seen.items() if parse_datetime(s) >= horizon}
