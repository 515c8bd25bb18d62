"""The admin API under ``/emulator/``: seed, inspect, statistics, clock, profile, faults."""

from __future__ import annotations

import logging

from aiohttp import web

from .emulator_clock import ms_to_sf, parse_datetime
from .field_values import render_record
from .http_common import ORG_KEY, ApiError, read_json
from .oauth_routes import ENDPOINTS_KEY
from .seed_generator import generate_seed
from .seed_loader import SeedError, load_seed

log = logging.getLogger(__name__)

DATA_DIR_KEY = web.AppKey("data_dir", object)


def _org(request: web.Request):
    return request.app[ORG_KEY]


async def status(request: web.Request) -> web.Response:
    org = _org(request)
    return web.json_response({
        "org_id": org.org_id, "now": ms_to_sf(org.clock.now_ms()),
        "profile": org.profile.to_dict(), **request.app[ENDPOINTS_KEY],
        "records": {name: sum(1 for _ in org.store.live(name)) for name in org.catalog},
    })


async def seed(request: web.Request) -> web.Response:
    doc = await read_json(request)
    try:
        counts = load_seed(_org(request), doc)
    except SeedError as exc:
        raise ApiError(400, "INVALID_SEED", str(exc)) from None
    return web.json_response({"loaded": counts})


async def generate(request: web.Request) -> web.Response:
    params = await read_json(request)
    try:
        doc = generate_seed(**params)
        counts = load_seed(_org(request), doc)
    except (TypeError, SeedError) as exc:
        raise ApiError(400, "INVALID_SEED", str(exc)) from None
    return web.json_response({"loaded": counts})


async def list_records(request: web.Request) -> web.Response:
    org = _org(request)
    odef = org.object_def(request.match_info["type"])
    if odef is None:
        raise ApiError(404, "NOT_FOUND", "unknown object")
    deleted = request.query.get("include_deleted", "false").lower() == "true"
    rows = [render_record(odef, r, "63.0") for r in org.store.table(odef.name).values()
            if deleted or not r.get("IsDeleted")]
    return web.json_response({"totalSize": len(rows), "records": rows})


async def get_record(request: web.Request) -> web.Response:
    org = _org(request)
    odef = org.object_def(request.match_info["type"])
    rec = org.store.get(odef.name, request.match_info["id"]) if odef else None
    if rec is None:
        raise ApiError(404, "NOT_FOUND", "no such record")
    return web.json_response(render_record(odef, rec, "63.0"))


async def stats(request: web.Request) -> web.Response:
    org = _org(request)
    return web.json_response({
        "api_calls": {"total": org.usage.total_calls, "today": org.usage.used,
                      "by_route": dict(org.usage.by_route)},
        "tokens_issued": org.sessions.tokens_issued,
        "events_published": dict(org.bus.published),
        "active_subscribers": sum(len(w) for w in org.bus.listeners.values()),
    })


async def reset_stats(request: web.Request) -> web.Response:
    _org(request).usage.reset()
    return web.json_response({"ok": True})


async def clock(request: web.Request) -> web.Response:
    org = _org(request)
    if request.method == "POST":
        body = await read_json(request)
        try:
            if "now" in body:
                org.clock.offset_ms += parse_datetime(body["now"]) - org.clock.now_ms()
            if "advance_seconds" in body:
                org.clock.advance(float(body["advance_seconds"]))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "INVALID_CLOCK", str(exc)) from None
        org.bus.wake_all()
        log.info("clock set to %s", ms_to_sf(org.clock.now_ms()))
    return web.json_response({"now": ms_to_sf(org.clock.now_ms()), "now_ms": org.clock.now_ms(),
                              "offset_ms": org.clock.offset_ms})


async def profile(request: web.Request) -> web.Response:
    org = _org(request)
    if request.method == "PATCH":
        unknown = org.profile.update(await read_json(request))
        if unknown:
            raise ApiError(400, "INVALID_PROFILE", f"unknown profile keys: {unknown}")
        org.rebuild_catalog()
    return web.json_response(org.profile.to_dict())


async def faults(request: web.Request) -> web.Response:
    org = _org(request)
    if request.method == "POST":
        try:
            rule = org.faults.add(await read_json(request))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "INVALID_FAULT", str(exc)) from None
        log.info("fault added: %s", rule)
    elif request.method == "DELETE":
        org.faults.clear()
    return web.json_response({"rest": org.faults.to_list()})


async def gap_event(request: web.Request) -> web.Response:
    org = _org(request)
    body = await read_json(request)
    app = org.sessions.apps.get("demo-client-id") or {}
    try:
        ts = parse_datetime(body["commitTimestamp"]) if body.get("commitTimestamp") else None
        org.cdc.inject_gap(body["object"], body.get("changeType", "GAP_UPDATE"),
                           body.get("recordIds", []), app.get("user_id") or "", ts)
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "INVALID_GAP", str(exc)) from None
    return web.json_response({"ok": True})


async def drop_streams(request: web.Request) -> web.Response:
    dropped = _org(request).bus.drop_streams()
    log.info("dropping %d subscription streams", dropped)
    return web.json_response({"dropped": dropped})


async def revoke_tokens(request: web.Request) -> web.Response:
    org = _org(request)
    body = await read_json(request) if request.can_read_body else {}
    count = org.sessions.revoke(body.get("token"))
    org.bus.wake_all()
    return web.json_response({"revoked": count})


async def save(request: web.Request) -> web.Response:
    path = _org(request).save(request.app[DATA_DIR_KEY])
    return web.json_response({"saved": str(path)})


def add_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/emulator/status", status)
    r.add_post("/emulator/seed", seed)
    r.add_post("/emulator/generate", generate)
    r.add_get("/emulator/records/{type}", list_records)
    r.add_get("/emulator/records/{type}/{id}", get_record)
    r.add_get("/emulator/stats", stats)
    r.add_post("/emulator/stats/reset", reset_stats)
    r.add_route("*", "/emulator/clock", clock)
    r.add_route("*", "/emulator/profile", profile)
    r.add_route("*", "/emulator/faults", faults)
    r.add_post("/emulator/faults/gap", gap_event)
    r.add_post("/emulator/faults/drop-streams", drop_streams)
    r.add_post("/emulator/faults/revoke-tokens", revoke_tokens)
    r.add_post("/emulator/save", save)
