"""``log_format = "json"``: one JSON object a line, for log shippers.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, and when known
``flow``, ``record`` (``flow/object_type/external_id (#id)``) and ``step``; an exception adds
``error``. The line is built from the message after secrets were masked (the hub's
``RedactingFilter`` runs first), and masked again as a whole.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from ..secrets import redact_text

FIELDS = ("flow", "record", "step")
# set while JSON lines are written: the record events of ``hub.events`` are then logged at INFO
# (in text logs the engine's own messages already say the same)
active = False


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }  # fmt: skip
        if record.name.startswith("hub.flow."):
            out["flow"] = record.name[len("hub.flow.") :]
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = str(value)
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["error"] = record.exc_text
        return redact_text(json.dumps(out, ensure_ascii=False))
