"""The sources ``salesforce.opportunities`` and ``salesforce.accounts``.

``mode`` chooses how changes are read: ``poll`` (SOQL on ``SystemModstamp``, see ``polling``),
``cdc`` (Change Data Capture over the Pub/Sub API, see ``cdc``) or ``auto`` (CDC when the org
publishes change events for the object, polling otherwise; the choice is logged and kept in
the checkpoint, which ``hub status`` shows).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import ClassVar

import grpc

from hub import ChangeBatch, ConfigError, FatalError, Setting, Source

from .cdc import CdcReader
from .checkpoint import SourceCheckpoint
from .org import connect_at_start
from .polling import ModstampPoller
from .pubsub import PubSubError
from .records import OBJECTS, RecordReader

log = logging.getLogger(__name__)

MODES = ("cdc", "poll", "auto")
FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
NO_CDC = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)


def cdc_available(conn, topic: str) -> tuple[bool, str]:
    """Whether the org publishes ``topic`` to this client, and why not."""
    try:
        info = conn.pubsub().get_topic(topic)
    except PubSubError as exc:
        if exc.code in NO_CDC:
            return False, f"{exc.code.name} {exc.error_code}".strip()
        raise
    if not info.can_subscribe:
        return False, "the topic may not be subscribed to"
    return True, "change events published"


class SalesforceSource(Source):
    system = "salesforce"
    sobject: ClassVar[str] = ""
    options = {
        "mode": Setting(str, default="auto", choices=MODES, help="how changes are read"),
        "fields": Setting(list, default=[], help="more fields to read (API names)"),
        "overlap_seconds": Setting(
            int, default=60, minimum=0, help="how far before the watermark each poll starts"
        ),
        "channel": Setting(str, help="Pub/Sub channel (default /data/<Object>ChangeEvent)"),
        "batch": Setting(int, default=100, minimum=1, help="events requested at a time (<=100)"),
        "echo_fields": Setting(
            list, default=[], help="fields the hub writes to this object (own-change filter)"
        ),
        "own_creates": Setting(
            str,
            default="echo",
            choices=("echo", "read"),
            help="records the hub itself created: dropped like its updates (echo) or read, "
            "so a flow writing the other way links them at once (read)",
        ),
        "exclusive_integration_user": Setting(
            bool, default=False, help="the integration user is the hub's alone"
        ),
        "catch_up_seconds": Setting(
            float, default=10.0, minimum=0.1, help="a read returns after this long without news"
        ),
    }

    def open(self) -> None:
        for field in self.opts["fields"]:
            if not isinstance(field, str) or not FIELD_PATH.match(field):
                raise ConfigError(
                    f"flow {self.context.flow}: source_options.fields: {field!r} is not a "
                    "field's API name (such as SAP_Order_DocNum__c or Owner.Email)"
                )
        self.conn = connect_at_start(
            self.context.settings, f"source {self.name}", self.context.state
        )
        self.reader = RecordReader(self.conn.rest, OBJECTS[self.sobject], self.opts["fields"])
        self.poller = ModstampPoller(self.reader, self.opts["overlap_seconds"])
        self.topic = self.opts.get("channel") or f"/data/{self.sobject}ChangeEvent"
        self.cdc: CdcReader | None = None
        self.mode: str | None = None

    def close(self) -> None:
        if getattr(self, "cdc", None) is not None:
            self.cdc.close()

    def effective_mode(self) -> str:
        if self.mode is None:
            wanted = self.opts["mode"]
            if wanted == "poll":
                self.mode = "poll"
            else:
                ok, why = cdc_available(self.conn, self.topic)
                if not ok and wanted == "cdc":
                    raise FatalError(
                        f"flow {self.context.flow}: mode = 'cdc' but {self.topic} is not "
                        f"available ({why}); enable Change Data Capture for {self.sobject} "
                        f"or use mode = 'auto' or 'poll'"
                    )
                self.mode = "cdc" if ok else "poll"
                if not ok:
                    log.warning(
                        "flow %s: no change events for %s (%s): polling instead",
                        self.context.flow,
                        self.sobject,
                        why,
                    )
        return self.mode

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        """Batches of the chosen mode; each checkpoint also carries the day's API usage and
        budget (``api_usage``), so ``hub status`` shows them."""
        for batch in self._read(checkpoint):
            if batch.checkpoint:
                data = json.loads(batch.checkpoint)
                data["api_usage"] = self.conn.budget.describe()
                batch.checkpoint = json.dumps(data, sort_keys=True, separators=(",", ":"))
            yield batch

    def _read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        if not hasattr(self, "reader"):
            self.open()
        cp = SourceCheckpoint.load(checkpoint)
        cp.mode = self.effective_mode()
        if cp.mode == "poll":
            yield from self.poller.poll(cp)
            return
        if self.cdc is None:
            self.cdc = CdcReader(
                self.conn.pubsub(),
                self.topic,
                self.reader,
                self.poller,
                user_id=self.conn.token.current().user_id,
                batch=self.opts["batch"],
                echo_fields=self.opts["echo_fields"],
                read_own_creates=self.opts["own_creates"] == "read",
                exclusive_user=self.opts["exclusive_integration_user"],
                catch_up_seconds=self.opts["catch_up_seconds"],
            )
        yield from self.cdc.read(cp, self.context.stopping)


class OpportunitySource(SalesforceSource):
    """Opportunities with their line items; ``IsWon`` says whether one is won."""

    name = "salesforce.opportunities"
    object_type = sobject = "Opportunity"


class AccountSource(SalesforceSource):
    name = "salesforce.accounts"
    object_type = sobject = "Account"
