"""The admin API under ``/emulator/``: seed and inspect entities, statistics, clock, faults,
settings and sessions. Answers JSON; errors use the Service Layer v2 shape."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from .emulator import MUTABLE_SETTINGS
from .errors import ServiceLayerError, bad_request, not_found
from .schema import ENTITY_SETS
from .seed import apply_seed, generate
from .service import parse_key
from .values import render

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger(__name__)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


async def _body(request: web.Request) -> dict:
    try:
        data = json.loads(await request.text() or "{}")
    except ValueError:
        raise bad_request("Invalid JSON in request body") from None
    if not isinstance(data, dict):
        raise bad_request("Expected a JSON object")
    return data


class AdminApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/emulator/health", self.health),
            web.get("/emulator/stats", self.stats),
            web.post("/emulator/stats/reset", self.stats_reset),
            web.post("/emulator/seed", self.seed),
            web.post("/emulator/generate", self.generate),
            web.post("/emulator/reset", self.reset),
            web.post("/emulator/save", self.save),
            web.get("/emulator/entities/{set}", self.list_entities),
            web.get("/emulator/entities/{set}/{key}", self.get_entity),
            web.get("/emulator/clock", self.get_clock),
            web.post("/emulator/clock", self.set_clock),
            web.get("/emulator/faults", self.list_faults),
            web.post("/emulator/faults", self.add_fault),
            web.delete("/emulator/faults", self.clear_faults),
            web.delete("/emulator/faults/{id}", self.clear_faults),
            web.get("/emulator/config", self.get_config),
            web.post("/emulator/config", self.set_config),
            web.post("/emulator/sessions/expire", self.expire_sessions),
            web.get("/emulator/webhooks", self.webhooks),
            web.post("/emulator/restart", self.restart),
        ]

    async def health(self, request: web.Request) -> web.Response:
        return _json({"status": "ok", "company": self.emu.settings["company"]})

    async def stats(self, request: web.Request) -> web.Response:
        payload = self.emu.stats.describe()
        payload["sessions_active"] = self.emu.sessions.active()
        payload["entities"] = {name: self.emu.store.count(name) for name in ENTITY_SETS}
        payload["webhooks"] = dict(self.emu.webhooks.stats)
        return _json(payload)

    async def stats_reset(self, request: web.Request) -> web.Response:
        self.emu.stats.reset()
        return _json({"status": "ok"})

    async def seed(self, request: web.Request) -> web.Response:
        counts = apply_seed(self.emu.writer, await _body(request))
        return _json({"created": counts}, 201)

    async def generate(self, request: web.Request) -> web.Response:
        spec = await _body(request)
        try:
            generate(self.emu.writer, {k: int(v) for k, v in spec.items()})
        except (TypeError, ValueError) as exc:
            raise bad_request(str(exc)) from None
        return _json({"entities": {n: self.emu.store.count(n) for n in ENTITY_SETS}}, 201)

    async def reset(self, request: web.Request) -> web.Response:
        self.emu.reset()
        return _json({"status": "ok"})

    async def save(self, request: web.Request) -> web.Response:
        self.emu.save()
        return _json({"saved": str(self.emu.state_path)})

    async def restart(self, request: web.Request) -> web.Response:
        activated = self.emu.restart_service()
        return _json({"status": "ok", "user_fields_activated": activated})

    def _set(self, request: web.Request):
        if request.match_info["set"] not in ENTITY_SETS:
            raise not_found()
        return self.emu.user_fields.entity_set(request.match_info["set"])

    async def list_entities(self, request: web.Request) -> web.Response:
        es = self._set(request)
        limit = int(request.query.get("limit", "1000"))
        rows = list(self.emu.store.tables[es.name].values())[:limit]
        return _json({"count": self.emu.store.count(es.name),
                      "value": [render(es, r) for r in rows]})

    async def get_entity(self, request: web.Request) -> web.Response:
        es = self._set(request)
        raw = request.match_info["key"]
        key = parse_key(es, raw if es.key_kind == "int" or raw.startswith("'") else f"'{raw}'")
        record = self.emu.store.get(es.name, key)
        if record is None:
            raise not_found()
        return _json({"@odata.etag": self.emu.store.etag(record), **render(es, record)})

    async def get_clock(self, request: web.Request) -> web.Response:
        return _json(self.emu.clock.describe())

    async def set_clock(self, request: web.Request) -> web.Response:
        body = await _body(request)
        clock = self.emu.clock
        try:
            if body.get("reset"):
                clock.reset()
            if "now" in body:
                when = dt.datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
                clock.set(when, frozen=bool(body.get("frozen", False)))
            if "advance" in body:
                clock.advance(float(body["advance"]))
        except (TypeError, ValueError):
            raise bad_request("Invalid clock setting") from None
        return _json(clock.describe())

    async def list_faults(self, request: web.Request) -> web.Response:
        return _json({"faults": self.emu.faults.describe()})

    async def add_fault(self, request: web.Request) -> web.Response:
        fault = self.emu.faults.add(await _body(request))
        return _json({"id": fault.id, "faults": self.emu.faults.describe()}, 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        fid = request.match_info.get("id")
        self.emu.faults.remove(int(fid) if fid and fid.isdigit() else None)
        return _json({"faults": self.emu.faults.describe()})

    def _config(self) -> dict:
        s = self.emu.sessions
        cfg = {k: self.emu.settings[k] for k in MUTABLE_SETTINGS if k != "password"}
        return cfg | {"session_timeout_minutes": s.timeout_minutes,
                      "session_timeout_seconds": s.timeout_seconds}

    async def get_config(self, request: web.Request) -> web.Response:
        return _json(self._config())

    async def set_config(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            for name, value in body.items():
                if name == "session_timeout_seconds":
                    self.emu.sessions.timeout_seconds = None if value is None else float(value)
                elif name == "session_timeout_minutes":
                    self.emu.sessions.timeout_minutes = int(value)
                elif name in MUTABLE_SETTINGS:
                    self.emu.settings[name] = None if value is None else MUTABLE_SETTINGS[name](
                        value)
                else:
                    raise bad_request(f"Unknown setting '{name}'")
        except (TypeError, ValueError):
            raise bad_request("Invalid setting value") from None
        return _json(self._config())

    async def expire_sessions(self, request: web.Request) -> web.Response:
        body = await _body(request)
        return _json({"expired": self.emu.sessions.expire(body.get("session_id"))})

    async def webhooks(self, request: web.Request) -> web.Response:
        wh = self.emu.webhooks
        return _json({"admin_info": wh.admin_info, "stats": wh.stats,
                      "queued": {str(k): len(q) for k, q in wh.queues.items()},
                      "log": len(wh.log)})


def admin_error(exc: ServiceLayerError) -> web.Response:
    return web.json_response(exc.body(), status=exc.status)
