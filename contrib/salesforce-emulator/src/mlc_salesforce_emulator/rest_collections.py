"""sObject Collections: create, update, upsert and delete up to 200 records in one call.

A well-formed request answers 200 with one result per record, in input order. The whole call is
one transaction (one change-event ``transactionKey``); with ``allOrNone`` any failure rolls
every record back.
"""

from __future__ import annotations

from aiohttp import web

from .dml import DmlError, Transaction
from .http_common import ORG_KEY, ApiError, read_json
from .rest_records import transaction

MAX_RECORDS = 200
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the "
                          "request was using AllOrNone header", "fields": []}


def _too_many(count: int) -> None:
    if count > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                       f"{MAX_RECORDS} records into this call")


async def _body(request: web.Request) -> tuple[bool, list]:
    body = await read_json(request)
    records = body.get("records")
    if not isinstance(records, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "records: an array of sObjects is required")
    _too_many(len(records))
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    return all_or_none, records


def _record_type(record) -> str:
    if not isinstance(record, dict):
        raise DmlError("INVALID_FIELD", "each record must be a JSON object")
    attrs = record.get("attributes")
    if not isinstance(attrs, dict) or not isinstance(attrs.get("type"), str):
        raise DmlError("INVALID_TYPE", "Must send a concrete entity type.")
    return attrs["type"]


def _rolled_back(result: dict) -> dict:
    """A successful result undone by ``allOrNone``: a record that existed before the call
    (update, delete, upsert that matched) keeps its id; a created one has none to report."""
    out: dict = {}
    if not result.get("created", False) and not result.get("_new"):
        out["id"] = result["id"]
    out.update(success=False, errors=[dict(ROLLED_BACK)])
    if "created" in result:
        out["created"] = False
    return out


def _run(txn: Transaction, items: list, all_or_none: bool, operation) -> list[dict]:
    """Run ``operation`` on every item; a failed item's result has no ``id`` key."""
    results: list[dict] = []
    failed = False
    for item in items:
        point = txn.savepoint()
        try:
            results.append(operation(item))
        except DmlError as exc:
            txn.rollback_to(point)
            failed = True
            results.append({"success": False, "errors": [exc.as_result()]})
    if failed and all_or_none:
        txn.rollback()
        results = [_rolled_back(r) if r["success"] else r for r in results]
    else:
        txn.commit()
    for r in results:
        r.pop("_new", None)
    return results


async def create_records(request: web.Request) -> web.Response:
    all_or_none, records = await _body(request)
    txn = transaction(request)

    def op(record):
        rid = txn.create(_record_type(record), record)
        return {"id": rid, "success": True, "errors": [], "_new": True}

    return web.json_response(_run(txn, records, all_or_none, op))


async def update_records(request: web.Request) -> web.Response:
    all_or_none, records = await _body(request)
    txn = transaction(request)

    def op(record):
        obj = _record_type(record)
        rid = record.get("Id")
        if not rid:
            raise DmlError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        values = {k: v for k, v in record.items() if k != "Id"}
        return {"id": txn.update(obj, rid, values), "success": True, "errors": []}

    return web.json_response(_run(txn, records, all_or_none, op))


async def upsert_records(request: web.Request) -> web.Response:
    all_or_none, records = await _body(request)
    org = request.app[ORG_KEY]
    odef = org.object_def(request.match_info["type"])
    if odef is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    fdef = odef.field(request.match_info["field"])
    if fdef is None or not (fdef.external_id or fdef.name == "Id"):
        raise ApiError(400, "INVALID_FIELD", "Provided external ID field does not exist or is "
                       f"not accessible: {request.match_info['field']}")
    txn = transaction(request)
    seen: set[str] = set()

    def op(record):
        if _record_type(record).lower() != odef.name.lower():
            raise DmlError("INVALID_TYPE", f"All records must be of type {odef.name}")
        value = next((v for k, v in record.items() if k.lower() == fdef.name.lower()), None)
        key = str(value).lower() if value is not None else None
        if key is not None and key in seen:
            raise DmlError("DUPLICATE_EXTERNAL_ID",
                           f"Duplicate external id specified: {value}", [fdef.name])
        if key is not None:
            seen.add(key)
        if value is None and fdef.name != "Id":
            raise DmlError("MISSING_ARGUMENT", f"{fdef.name} not specified", [fdef.name])
        try:
            rid, created = txn.upsert(odef.name, fdef.name, value, record)
        except DmlError as exc:
            if exc.http_status == 300:
                raise DmlError("DUPLICATE_EXTERNAL_ID", "More than one record found for "
                               f"external id field {fdef.name}: {value}", [fdef.name]) from None
            raise
        return {"id": rid, "success": True, "errors": [], "created": created}

    results = _run(txn, records, all_or_none, op)
    for r in results:
        r.setdefault("created", False)
    return web.json_response(results)


async def delete_records(request: web.Request) -> web.Response:
    ids = [i for i in request.query.get("ids", "").split(",") if i]
    if not ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    _too_many(len(ids))
    all_or_none = request.query.get("allOrNone", "false").lower() == "true"
    org = request.app[ORG_KEY]
    txn = transaction(request)

    def op(rid):
        odef = next((o for o in org.catalog.values() if rid.startswith(o.key_prefix)), None)
        if odef is None:
            raise DmlError("MALFORMED_ID", f"malformed id {rid}")
        return {"id": txn.delete(odef.name, rid), "success": True, "errors": []}

    return web.json_response(_run(txn, ids, all_or_none, op))
