"""The HTTP(S) server: aiohttp routes for ``/b1s/v2/`` and ``/emulator/``, faults, statistics,
body limits, and a last-resort handler so no request ever sees a stack trace."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from multidict import CIMultiDict

from .admin import AdminApi, admin_error
from .emulator import Emulator
from .errors import ServiceLayerError, invalid_session
from .service import SLRequest, SLResponse, error_response

log = logging.getLogger(__name__)

SERVICE_ROOT = "/b1s/v2/"
PROXY_ERROR = "<html><head><title>{0} {1}</title></head><body><h1>{1}</h1></body></html>"
REASONS = {502: "Proxy Error", 503: "Service Unavailable", 504: "Gateway Timeout"}
CLIENT_MAX = 1024 * 1024 * 1024


class DropConnection(Exception):
    """Raised to close the client connection without an answer."""


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
    raise DropConnection


async def _read_body(request: web.Request, limit: int) -> bytes:
    too_large = ServiceLayerError(413, "-1000", f"Request body exceeds {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _web_response(resp: SLResponse) -> web.Response:
    headers = CIMultiDict(resp.headers)
    return web.Response(status=resp.status, body=resp.body, headers=headers)


class ServiceLayerHttp:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def _fault_answer(self, request: web.Request, fault, method: str,
                            path: str) -> web.Response | None:
        """Carry out a fault before the request is processed; an answer replaces the real one."""
        emu = self.emu
        emu.stats.faults_fired += 1
        log.info("fault %s fires on %s %s", fault.kind, method, path)
        if fault.kind == "status":
            emu.stats.record(method, path, fault.status)
            reason = REASONS.get(fault.status, "Error")
            return web.Response(status=fault.status, content_type="text/html",
                                text=PROXY_ERROR.format(fault.status, reason))
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "drop":
            _drop(request)
        elif fault.kind == "expire_session":
            emu.sessions.expire(request.cookies.get("B1SESSION"))
        elif fault.kind == "recycle":
            emu.sessions.expire()
            err = invalid_session()
            err.status = 403
            emu.stats.record(method, path, 403, err.code)
            return _web_response(error_response(err))
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        emu = self.emu
        path = request.match_info["tail"]
        method = request.method
        fault = emu.faults.take(method, path)
        if fault is not None:
            answer = await self._fault_answer(request, fault, method, path)
            if answer is not None:
                return answer
        try:
            body = await _read_body(request, emu.settings["max_body_bytes"])
        except ServiceLayerError as exc:
            emu.stats.record(method, path, exc.status, exc.code)
            return _web_response(error_response(exc))
        sl_request = SLRequest(
            method=method, path=path, params=list(request.query.items()),
            headers=request.headers, body=body,
            base_url=f"{request.scheme}://{request.host}{SERVICE_ROOT}",
            session_id=request.cookies.get("B1SESSION"),
        )
        resp = await emu.service.handle(sl_request)
        emu.stats.record(method, path, resp.status, resp.error_code)
        if fault is not None and fault.kind == "commit_then_drop":
            _drop(request)
        return _web_response(resp)


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """Answer every failure in the v2 error shape; never leak a stack trace."""
    try:
        return await handler(request)
    except DropConnection:
        raise asyncio.CancelledError from None
    except ServiceLayerError as exc:
        return admin_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = ServiceLayerError(exc.status, "-1000", exc.reason or "Request failed")
        return admin_error(err)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return admin_error(ServiceLayerError(500, "-1", "Internal error"))


async def not_found(request: web.Request) -> web.Response:
    err = ServiceLayerError(404, "-1000", f"Resource not found for the segment '{request.path}'")
    return admin_error(err)


def make_app(emulator: Emulator) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=CLIENT_MAX)
    sl = ServiceLayerHttp(emulator)
    app.add_routes(AdminApi(emulator).routes())
    app.router.add_route("*", SERVICE_ROOT + "{tail:.*}", sl.handle)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
