"""Shared pieces of the HTTP layer: error bodies, authentication, limits, injected faults."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web

from .dml import DmlError
from .soql_parser import SoqlError

log = logging.getLogger(__name__)

ORG_KEY = web.AppKey("org", object)
DATA_PREFIX = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


def error_response(status: int, code: str, message: str,
                   fields: list[str] | None = None) -> web.Response:
    body = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return web.json_response([body], status=status)


async def read_json(request: web.Request, expect=(dict,)):
    raw = await request.read()
    try:
        data = json.loads(raw.decode("utf-8") if raw else "")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ApiError(400, "JSON_PARSER_ERROR",
                       f"Unexpected character or end of input: {exc}") from None
    if not isinstance(data, expect):
        raise ApiError(400, "JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {expect[0].__name__} from the request "
                       "body")
    return data


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    parts = header.split(None, 1)
    if len(parts) == 2 and parts[0].lower() in ("bearer", "oauth"):
        return parts[1].strip()
    return None


def call_client(request: web.Request) -> str | None:
    """The ``client`` of ``Sforce-Call-Options`` (``client=hub, defaultNamespace=x``), if sent."""
    options = request.headers.get("Sforce-Call-Options", "")
    for part in re.split(r"[,;]", options):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "client" and value.strip():
            return value.strip()
    return None


_LABELS: dict[tuple[str, str], str] = {}


def route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else "(unrouted)"
    key = (request.method, canonical)
    label = _LABELS.get(key)
    if label is None:
        path = re.sub(r"^/services/data/v\{version[^}]*\}", "", canonical).rstrip("/")
        label = _LABELS[key] = f"{request.method} {path or '/'}"
    return label


async def apply_fault(org, request: web.Request) -> web.StreamResponse | None:
    rule = org.faults.take(request.method, request.path)
    if rule is None:
        return None
    if rule.delay_ms:
        await asyncio.sleep(rule.delay_ms / 1000)
    if not rule.status:
        return None
    if rule.oauth_error:
        return web.json_response({"error": rule.oauth_error, "error_description": rule.message},
                                 status=rule.status)
    return error_response(rule.status, rule.error_code, rule.message)


@web.middleware
async def api_middleware(request: web.Request, handler):
    org = request.app[ORG_KEY]
    path = request.path
    if path.startswith("/emulator"):
        return await _guarded(request, handler)
    fault = await apply_fault(org, request)
    if fault is not None:
        if DATA_PREFIX.match(path):
            fault.headers["Sforce-Limit-Info"] = org.usage.header()
        return fault
    match = DATA_PREFIX.match(path)
    if not match:
        return await _guarded(request, handler)
    request["version"] = match.group(1)
    session = org.sessions.validate(bearer_token(request))
    if session is None:
        resp = error_response(401, "INVALID_SESSION_ID", "Session expired or invalid")
        resp.headers["WWW-Authenticate"] = 'Token realm="Salesforce"'
        return resp
    request["session"] = session
    if org.usage.exhausted():
        resp = error_response(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        resp.headers["Sforce-Limit-Info"] = org.usage.header()
        return resp
    org.usage.count(route_label(request))
    resp = await _guarded(request, handler)
    resp.headers["Sforce-Limit-Info"] = org.usage.header()
    return resp


async def _guarded(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.fields)
    except DmlError as exc:
        return error_response(exc.http_status if exc.http_status != 300 else 400, exc.code,
                              exc.message, exc.fields)
    except SoqlError as exc:
        return error_response(400, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if exc.status == 405:
            return error_response(405, "METHOD_NOT_ALLOWED",
                                  f"HTTP Method '{request.method}' not allowed.")
        raise
    except Exception:  # the emulator must answer, never die
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
