"""The emulator's state: entities, sessions, clock, settings, faults, statistics, webhooks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .clock import EmulatorClock
from .entities import EntityWriter
from .faults import FaultPlan, RequestStats
from .service import ServiceLayer
from .sessions import SessionRegistry
from .store import EntityStore, save_json
from .user_fields import UserFields
from .webhooks import WebhookService

log = logging.getLogger(__name__)

DEFAULT_SETTINGS = {
    "company": "SBODEMOUS",
    "user": "manager",
    "password": "manager",
    "version": "1000280",
    "page_size": 20,
    "login_delay": 0.0,
    "max_body_bytes": 10 * 1024 * 1024,
    "webhook_retry_scale": 1.0,
    "webhook_ca_bundle": None,
    "webhook_timeout": 10.0,
    # faults of a real landscape (see README, "Faults of a real landscape")
    "max_concurrent_logins": None,  # more logins at once answer 500 code 299
    "nodes": 1,  # logins are spread over this many nodes (ROUTEID=.node<n>)
    "broken_nodes": [],  # nodes whose reads answer 500 code 407
}


def _node_list(value: object) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(n, int) and n > 0 for n in value):
        raise ValueError("broken_nodes is a list of node numbers")
    return value

# Settings the admin API may change at run time.
MUTABLE_SETTINGS = {
    "page_size": int, "login_delay": float, "max_body_bytes": int,
    "webhook_retry_scale": float, "webhook_ca_bundle": str, "webhook_timeout": float,
    "password": str, "user": str, "company": str,
    "max_concurrent_logins": int, "nodes": int, "broken_nodes": _node_list,
}
STATE_FILE = "state.json"


class Emulator:
    def __init__(self, data_dir: Path, settings: dict | None = None,
                 session_timeout_minutes: int = 30,
                 session_timeout_seconds: float | None = None) -> None:
        self.data_dir = data_dir
        self.settings = dict(DEFAULT_SETTINGS) | (settings or {})
        self.store = EntityStore()
        self.clock = EmulatorClock()
        self.sessions = SessionRegistry(session_timeout_minutes, session_timeout_seconds)
        self.user_fields = UserFields(self.store)
        self.writer = EntityWriter(self.store, self.clock, self.settings, self.user_fields)
        self.faults = FaultPlan()
        self.stats = RequestStats()
        self.webhooks = WebhookService(self)
        self.store.on_commit = self.webhooks.on_commit
        self.service = ServiceLayer(self)

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def load(self) -> bool:
        """Load the state saved by a previous run; False if there is none."""
        if not self.state_path.exists():
            return False
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        self.store.load(data.get("store", {}))
        activated = self.user_fields.activate()  # a restart: fields declared meanwhile appear
        if activated:
            log.info("%d user field definition(s) now in effect", activated)
        self.webhooks.admin_info.update(data.get("admin_info", {}))
        for name in ("company", "user", "password"):
            if name in data.get("credentials", {}):
                self.settings[name] = data["credentials"][name]
        log.info("state loaded from %s", self.state_path)
        return True

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        save_json(self.state_path, {
            "store": self.store.dump(),
            "admin_info": self.webhooks.admin_info,
            "credentials": {k: self.settings[k] for k in ("company", "user", "password")},
        })

    def reset(self) -> None:
        """Forget all entities (user field definitions, sessions, settings and faults stay)."""
        fresh = EntityStore()
        fresh.on_commit = self.webhooks.on_commit
        for row in self.user_fields.rows():
            fresh.put("UserFieldsMD", row["__key"], dict(row), None)
        self.store.__dict__.update(fresh.__dict__)

    def restart_service(self) -> int:
        """What a Service Layer restart does: every session ends and user fields declared
        since the last start take effect. Returns how many definitions took effect."""
        self.sessions.expire()
        return self.user_fields.activate()
