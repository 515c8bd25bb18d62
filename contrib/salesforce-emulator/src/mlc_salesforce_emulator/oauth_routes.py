"""OAuth 2.0 endpoints on the instance host: client-credentials token, introspect, revoke."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from aiohttp import web

from .http_common import ORG_KEY
from .sessions import OAuthError

ENDPOINTS_KEY = web.AppKey("endpoints", dict)


def _oauth_error(exc: OAuthError) -> web.Response:
    return web.json_response({"error": exc.error, "error_description": exc.description},
                             status=exc.status)


async def _form(request: web.Request) -> dict:
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_request", "request body could not be parsed") from None
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _client_credentials(request: web.Request, form: dict) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        cid, _, secret = decoded.partition(":")
        return unquote_plus(cid), unquote_plus(secret)
    return form.get("client_id"), form.get("client_secret")


async def token(request: web.Request) -> web.Response:
    org = request.app[ORG_KEY]
    try:
        form = await _form(request)
        grant = form.get("grant_type")
        if grant != "client_credentials":
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        cid, secret = _client_credentials(request, form)
        body = org.sessions.issue(cid, secret, request.app[ENDPOINTS_KEY]["instance_url"])
    except OAuthError as exc:
        return _oauth_error(exc)
    return web.json_response(body)


async def introspect(request: web.Request) -> web.Response:
    org = request.app[ORG_KEY]
    try:
        form = await _form(request)
        cid, secret = _client_credentials(request, form)
        org.sessions.authenticate_client(cid, secret)
    except OAuthError as exc:
        return _oauth_error(exc)
    return web.json_response(org.sessions.introspect(form.get("token")))


async def revoke(request: web.Request) -> web.Response:
    org = request.app[ORG_KEY]
    try:
        form = await _form(request)
    except OAuthError as exc:
        return _oauth_error(exc)
    if not org.sessions.revoke(form.get("token") or "\0"):
        return web.json_response({"error": "unsupported_token_type",
                                  "error_description": "this token type is not supported"},
                                 status=400)
    org.bus.wake_all()
    return web.Response(status=200)
