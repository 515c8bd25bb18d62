"""A notifier for tests of ``hub run``: each alert becomes one JSON line in
``$HUBTEST_ALERT_FILE``."""

from __future__ import annotations

import json
import os
import threading

from hub import hookimpl

_lock = threading.Lock()


@hookimpl
def hub_alert(alert):
    path = os.environ.get("HUBTEST_ALERT_FILE")
    if not path:
        return
    line = json.dumps({"kind": alert.kind, "subject": alert.subject, "details": alert.details})
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
