"""sObject rows: create, read, update, delete, upsert by external id; SOQL queries."""

from __future__ import annotations

from collections import OrderedDict

from aiohttp import web

from .dml import Transaction
from .emulator_clock import ms_to_sf, parse_datetime
from .field_values import render_record
from .http_common import ORG_KEY, ApiError, call_client, read_json
from .query_execution import run_query
from .record_ids import normalize_id
from .rest_describe import require_object

CURSORS_KEY = web.AppKey("cursors", OrderedDict)
MAX_CURSORS = 100  # the oldest query cursors are forgotten first
UPSERT_BODY_SINCE = 46.0  # an upsert that updates answers 200 with a body (204 before)


def transaction(request: web.Request) -> Transaction:
    """A transaction for this request; ``changeOrigin`` names the client only when the request
    sent ``Sforce-Call-Options: client=<id>`` (a real org never falls back to the app id)."""
    client = call_client(request)
    origin = f"com/salesforce/api/rest/{request['version']}"
    if client:
        origin += f";client={client}"
    return Transaction(request.app[ORG_KEY], request["session"]["user_id"], origin)


def _record_url(request: web.Request, obj: str, rid: str) -> str:
    return f"/services/data/v{request['version']}/sobjects/{obj}/{rid}"


def _select_fields(request: web.Request, odef) -> list[str] | None:
    raw = request.query.get("fields")
    if not raw:
        return None
    names = []
    for name in (n.strip() for n in raw.split(",") if n.strip()):
        fdef = odef.field(name)
        if fdef is None:
            raise ApiError(400, "INVALID_FIELD",
                           f"No such column '{name}' on sobject of type {odef.name}")
        names.append(fdef.name)
    return names


async def create_record(request: web.Request) -> web.Response:
    odef = require_object(request)
    body = await read_json(request)
    txn = transaction(request)
    rid = txn.create(odef.name, body)
    txn.commit()
    return web.json_response({"id": rid, "success": True, "errors": []}, status=201)


def _live_record(request: web.Request, odef, rid: str) -> dict:
    org = request.app[ORG_KEY]
    norm = normalize_id(rid)
    rec = org.store.get(odef.name, norm) if norm else None
    if rec is None or rec.get("IsDeleted"):
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return rec


async def get_record(request: web.Request) -> web.Response:
    odef = require_object(request)
    rec = _live_record(request, odef, request.match_info["id"])
    names = _select_fields(request, odef)
    return web.json_response(render_record(odef, rec, request["version"], names))


async def update_record(request: web.Request) -> web.Response:
    odef = require_object(request)
    body = await read_json(request)
    txn = transaction(request)
    txn.update(odef.name, request.match_info["id"], body, http=True)
    txn.commit()
    return web.Response(status=204)


async def delete_record(request: web.Request) -> web.Response:
    odef = require_object(request)
    txn = transaction(request)
    txn.delete(odef.name, request.match_info["id"], http=True)
    txn.commit()
    return web.Response(status=204)


def _by_external_id(request: web.Request, odef) -> tuple[str, list[str]]:
    org = request.app[ORG_KEY]
    fdef = odef.field(request.match_info["field"])
    if fdef is None or not (fdef.external_id or fdef.unique or fdef.name == "Id"):
        raise ApiError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                       f"accessible: {request.match_info['field']}")
    value = request.match_info["value"]
    if fdef.name == "Id":
        rec = _live_record(request, odef, value)
        return fdef.name, [rec["Id"]]
    return fdef.name, org.store.find_by(odef.name, fdef.name, value)


def _multiple_choices(request: web.Request, odef, ids: list[str]) -> web.Response:
    return web.json_response([_record_url(request, odef.name, i) for i in ids], status=300)


async def get_by_external_id(request: web.Request) -> web.Response:
    odef = require_object(request)
    _, ids = _by_external_id(request, odef)
    if not ids:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if len(ids) > 1:
        return _multiple_choices(request, odef, ids)
    rec = request.app[ORG_KEY].store.get(odef.name, ids[0])
    return web.json_response(render_record(odef, rec, request["version"],
                                           _select_fields(request, odef)))


async def upsert_record(request: web.Request) -> web.Response:
    odef = require_object(request)
    body = await read_json(request)
    field = request.match_info["field"]
    fdef = odef.field(field)
    if fdef is not None and fdef.external_id:
        ids = request.app[ORG_KEY].store.find_by(odef.name, fdef.name,
                                                 request.match_info["value"])
        if len(ids) > 1:
            return _multiple_choices(request, odef, ids)
    txn = transaction(request)
    rid, created = txn.upsert(odef.name, field, request.match_info["value"], body, http=True)
    txn.commit()
    if not created and float(request["version"]) < UPSERT_BODY_SINCE:
        return web.Response(status=204)
    return web.json_response({"id": rid, "success": True, "errors": [], "created": created},
                             status=201 if created else 200)


# replication: getUpdated / getDeleted ---------------------------------------------------------
def _window(request: web.Request) -> tuple[int, int]:
    try:
        start = parse_datetime(request.query["start"])
        end = parse_datetime(request.query["end"])
    except (KeyError, ValueError):
        raise ApiError(400, "INVALID_REPLICATION_DATE", "start and end must be ISO-8601 "
                       "datetimes") from None
    if end < start:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "end date must be after start date")
    return start, end


async def updated_records(request: web.Request) -> web.Response:
    odef = require_object(request)
    start, end = _window(request)
    org = request.app[ORG_KEY]
    ids = [r["Id"] for r in org.store.live(odef.name) if start <= r["SystemModstamp"] < end]
    return web.json_response({"ids": ids, "latestDateCovered": ms_to_sf(end)})


async def deleted_records(request: web.Request) -> web.Response:
    odef = require_object(request)
    start, end = _window(request)
    org = request.app[ORG_KEY]
    rows = [{"id": r["Id"], "deletedDate": ms_to_sf(r["SystemModstamp"])}
            for r in org.store.table(odef.name).values()
            if r.get("IsDeleted") and start <= r["SystemModstamp"] < end]
    cutoff = org.bus.cutoff_ms()
    return web.json_response({"deletedRecords": rows, "earliestDateAvailable": ms_to_sf(cutoff),
                              "latestDateCovered": ms_to_sf(end)})


# queries ---------------------------------------------------------------------------------
def _page(request: web.Request, locator: str, start: int) -> web.Response:
    cursors = request.app[CURSORS_KEY]
    entry = cursors.get(locator)
    if entry is None or start > len(entry["records"]):
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    cursors.move_to_end(locator)
    records = entry["records"]
    end = min(start + entry["page_size"], len(records))
    body = {"totalSize": len(records), "done": end >= len(records),
            "records": records[start:end]}
    if end < len(records):
        body["nextRecordsUrl"] = f"/services/data/v{request['version']}/query/{locator}-{end}"
    return web.json_response(body)


def _page_size(request: web.Request) -> int:
    """The org's page size, lowered by ``Sforce-Query-Options: batchSize=N`` (200..2000)."""
    size = request.app[ORG_KEY].profile.query_page_size
    for part in request.headers.get("Sforce-Query-Options", "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            size = min(size, max(200, min(2000, int(value))))
    return size


async def _query(request: web.Request, include_deleted: bool) -> web.Response:
    text = request.query.get("q")
    if text is None:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    org = request.app[ORG_KEY]

    def open_cursor(records: list, page_size: int) -> str:
        locator = _open_cursor(request, records, page_size)
        return f"/services/data/v{request['version']}/query/{locator}-{page_size}"

    result = run_query(org, text, include_deleted, request["version"], open_cursor)
    if isinstance(result, int):
        return web.json_response({"totalSize": result, "done": True, "records": []})
    page_size = _page_size(request)
    if len(result) <= page_size:
        return web.json_response({"totalSize": len(result), "done": True, "records": result})
    return _page(request, _open_cursor(request, result, page_size), 0)


def _open_cursor(request: web.Request, records: list, page_size: int) -> str:
    cursors = request.app[CURSORS_KEY]
    locator = request.app[ORG_KEY].store.next_id("01g")[:15]
    cursors[locator] = {"records": records, "page_size": page_size}
    while len(cursors) > MAX_CURSORS:
        cursors.popitem(last=False)
    return locator


async def query(request: web.Request) -> web.Response:
    return await _query(request, include_deleted=False)


async def query_all(request: web.Request) -> web.Response:
    return await _query(request, include_deleted=True)


async def query_more(request: web.Request) -> web.Response:
    locator, _, start = request.match_info["locator"].rpartition("-")
    if not locator or not start.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(request, locator, int(start))
