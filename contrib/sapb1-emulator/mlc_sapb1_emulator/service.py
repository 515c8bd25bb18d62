"""The Service Layer itself: routes below ``/b1s/v2/`` turned into answers.

Independent of the HTTP server, so that ``$batch`` parts run through the same code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import query
from .errors import ServiceLayerError, bad_request, invalid_session, not_found
from .metadata import metadata_xml
from .schema import ENTITY_SETS, NAVIGATION, USER_FIELDS_MD, EntitySet
from .user_fields import check_key_parts, unsupported
from .values import render

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger(__name__)

PATH_RE = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>.*?)\))?(?:/(?P<rest>[^/]+))?$")
JSON = "application/json;odata.metadata=minimal;charset=utf-8"
ERROR_JSON = "application/json;charset=utf-8"  # the Content-Type of recorded error answers
WWW_AUTHENTICATE = 'Basic realm="SAP Business One Service Layer"'

ENTITY_ACTIONS = {"Close", "Cancel"}
LOGIN_FAILED = "Fail to NONE-SSO login from SLD."
BROKEN_NODE_TABLE = "@ZZVF_T"  # the table a misbehaving node was recorded complaining about


@dataclass
class SLRequest:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: object  # a case-insensitive mapping
    body: bytes
    base_url: str
    session_id: str | None = None
    in_batch: bool = False


@dataclass
class SLResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    session_id: str | None = None
    error_code: str | None = None


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_response(status: int, payload: object, headers: list | None = None) -> SLResponse:
    body = _dumps(payload).encode("utf-8", "replace")
    return SLResponse(status, body, [("Content-Type", JSON), *(headers or [])])


def error_response(exc: ServiceLayerError) -> SLResponse:
    headers = [("Content-Type", ERROR_JSON)]
    if exc.status == 401:
        headers.append(("WWW-Authenticate", WWW_AUTHENTICATE))
    resp = SLResponse(exc.status, _dumps(exc.body()).encode("utf-8", "replace"), headers)
    resp.error_code = exc.code
    return resp


def parse_key(es: EntitySet, text: str) -> object:
    text = text.strip()
    if es.key_parts:  # TableName='OCRD',FieldID=0
        parts = dict(p.partition("=")[::2] for p in text.split(","))
        return check_key_parts(es, {k.strip(): v.strip() for k, v in parts.items()})
    if "=" in text and not text.startswith("'"):
        name, _, text = text.partition("=")
        if name.strip() != es.key:
            raise bad_request(f"Invalid key property '{name.strip()}'")
        text = text.strip()
    if es.key_kind == "int":
        if not re.fullmatch(r"-?\d+", text):
            raise bad_request(f"Invalid key value '{text}' for '{es.name}'")
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise bad_request(f"Invalid key value '{text}' for '{es.name}'")


def key_literal(es: EntitySet, key: object) -> str:
    if es.key_parts:
        table, field_id = str(key).split(",")
        return f"TableName='{table}',FieldID={int(field_id)}"
    if es.key_kind == "int":
        return str(key)
    return "'" + str(key).replace("'", "''") + "'"


def _not_json(token: str) -> object:
    raise ValueError(f"{token} is not JSON")  # RFC 8259 section 6: no NaN or Infinity


def decode_json(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
        return json.loads(text, parse_constant=_not_json) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("Invalid JSON in request body", "-1000") from None


class ServiceLayer:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.logins_in_flight = 0
        self._logins_started = 0

    async def handle(self, req: SLRequest) -> SLResponse:
        try:
            return await self._route(req)
        except ServiceLayerError as exc:
            return error_response(exc)

    async def _route(self, req: SLRequest) -> SLResponse:
        path = req.path
        if path == "Login":
            return await self._login(req)
        session = self.emu.sessions.touch(req.session_id)
        if session is None:
            raise invalid_session()
        if req.method == "GET" and session.node in self.emu.settings["broken_nodes"]:
            raise ServiceLayerError(  # a node with a broken table cache, as recorded
                500, "407", f"Table definition not found for '{BROKEN_NODE_TABLE}'.")
        if path == "Logout":
            self.emu.sessions.close(session.session_id)
            return SLResponse(204)
        if path == "":
            return self._service_document(req)
        if path == "$metadata":
            xml = metadata_xml(tuple(self.emu.user_fields.entity_sets().values()))
            return SLResponse(200, xml.encode(), [("Content-Type", "application/xml")])
        if path == "$batch" and not req.in_batch:
            from .batch import run_batch

            return await run_batch(self, req)
        if path.startswith("CompanyService_") or path.startswith("EventSubscriptionsService_"):
            return self.emu.webhooks.service_call(req, path)
        m = PATH_RE.match(path)
        if not m or m.group("set") not in ENTITY_SETS:
            raise ServiceLayerError(404, "-1000", f"Resource not found for the segment '{path}'")
        es = self.emu.user_fields.entity_set(m.group("set"))
        if es.name == "EventSubscriptions":
            self.emu.webhooks.require_enabled()
        key_text, rest = m.group("key"), m.group("rest")
        if key_text is None:
            if rest == "$count" and req.method == "GET":
                return self._count(es, req)
            if rest is not None:
                raise ServiceLayerError(
                    404, "-1000", f"Resource not found for the segment '{path}'"
                )
            return await self._collection(es, req)
        key = parse_key(es, key_text)
        if rest is not None:
            return await self._action(es, key, rest, req)
        return await self._entity(es, key, req)

    def _service_document(self, req: SLRequest) -> SLResponse:
        sets = [{"name": name, "kind": "EntitySet", "url": name} for name in ENTITY_SETS]
        return json_response(200, {"@odata.context": f"{req.base_url}$metadata", "value": sets})

    # login -------------------------------------------------------------------
    async def _login(self, req: SLRequest) -> SLResponse:
        if req.method != "POST":
            raise ServiceLayerError(405, "-1000", "Method not allowed")
        body = decode_json(req.body)
        s = self.emu.settings
        limit = s["max_concurrent_logins"]
        if limit is not None and self.logins_in_flight >= limit:
            self.emu.stats.failed_logins += 1  # as recorded with 8 parallel logins
            raise ServiceLayerError(500, "299", "SAML Login Failed")
        self.logins_in_flight += 1
        try:
            return await self._login_checked(req, body)
        finally:
            self.logins_in_flight -= 1

    async def _login_checked(self, req: SLRequest, body: object) -> SLResponse:
        s = self.emu.settings
        if s["login_delay"] > 0:
            await asyncio.sleep(s["login_delay"])
        if not isinstance(body, dict):
            raise bad_request("Invalid login request")
        if body.get("CompanyDB") != s["company"]:  # same text as a wrong password, as recorded
            self.emu.stats.failed_logins += 1
            raise ServiceLayerError(401, "-306", LOGIN_FAILED)
        if body.get("UserName") != s["user"] or body.get("Password") != s["password"]:
            self.emu.stats.failed_logins += 1
            raise ServiceLayerError(401, "-304", LOGIN_FAILED)
        node = self._logins_started % max(1, s["nodes"]) + 1  # round robin over the nodes
        self._logins_started += 1
        session = self.emu.sessions.open(s["user"], s["company"], node)
        self.emu.stats.logins += 1
        payload = {
            "@odata.context": f"{req.base_url}$metadata#B1Sessions/$entity",
            "SessionId": session.session_id,
            "Version": s["version"],
            "SessionTimeout": self.emu.sessions.timeout_minutes,
        }
        resp = json_response(200, payload, [
            ("Set-Cookie", f"B1SESSION={session.session_id};HttpOnly;"),
            ("Set-Cookie", f"ROUTEID=.node{node}; path=/b1s"),
        ])
        resp.session_id = session.session_id
        return resp

    # collections -------------------------------------------------------------
    def _count(self, es: EntitySet, req: SLRequest) -> SLResponse:
        opts = query.parse_options(es, req.params)
        n = len(query.matching_keys(self.emu.store, es, opts))
        return SLResponse(200, str(n).encode(), [("Content-Type", "text/plain;charset=utf-8")])

    async def _collection(self, es: EntitySet, req: SLRequest) -> SLResponse:
        if req.method == "GET":
            return self._query(es, req)
        if req.method == "POST":
            body = decode_json(req.body)
            if es.name == "EventSubscriptions":
                await self.emu.webhooks.handshake_if_asked(body)
            if es is USER_FIELDS_MD:  # effective after a restart, as on a real server
                record = self.emu.user_fields.declare(body, pending=True)
            else:
                record = self.emu.writer.create(es, body)
            location = f"{req.base_url}{es.name}({key_literal(es, record[es.key])})"
            prefer = req.headers.get("Prefer", "")
            for choice in ("return-no-content", "return=minimal"):
                if choice in prefer:
                    return SLResponse(204, b"", [("Location", location),
                                                 ("Preference-Applied", choice)])
            return json_response(201, self._entity_payload(es, record, req),
                                 [("Location", location), ("ETag", self.emu.store.etag(record))])
        raise ServiceLayerError(405, "-1000", f"Method {req.method} not allowed on '{es.name}'")

    def _query(self, es: EntitySet, req: SLRequest) -> SLResponse:
        store = self.emu.store
        opts = query.parse_options(es, req.params, self.emu.user_fields.entity_sets())
        keys = query.matching_keys(store, es, opts)
        size, extra = query.page_size_from(req.headers, self.emu.settings["page_size"])
        selected, next_skip, next_top = query.page(keys, opts, size)
        table = store.tables[es.name]
        ctx = f"{req.base_url}$metadata#{es.name}"
        if opts.select:
            ctx += "(" + ",".join(opts.select) + ")"
        head: dict = {"@odata.context": ctx}
        if opts.count:
            head["@odata.count"] = len(keys)
        if opts.select or opts.expand:
            rows = ",".join(_dumps(self._row(es, table[k], opts)) for k in selected)
        else:
            rows = ",".join(self._fragment(es, table[k]) for k in selected)
        text = _dumps(head)[:-1] + ',"value":[' + rows + "]"
        if next_skip is not None:
            link = query.next_link(es.name, req.params, next_skip, next_top)
            text += ',"@odata.nextLink":' + _dumps(link)
        return SLResponse(200, (text + "}").encode("utf-8", "replace"),
                          [("Content-Type", JSON), *extra])

    def _row(self, es: EntitySet, record: dict, opts: query.QueryOptions) -> dict:
        """An entity shaped by ``$select`` and ``$expand``. As recorded, an expanded property
        comes back only when ``$select`` is absent or names it."""
        store = self.emu.store
        navigation = NAVIGATION.get(es.name, {})
        select = opts.select
        row = {"@odata.etag": store.partial_etag(record, select) if select
               else store.etag(record)}
        row.update(render(es, record, None if select is None
                          else [n for n in select if n not in navigation]))
        for name, inner in opts.expand or ():
            if select is not None and name not in select:
                continue
            target_name, foreign_key = navigation[name]
            target = store.get(target_name, record.get(foreign_key))
            target_set = self.emu.user_fields.entity_set(target_name)
            row[name] = None if target is None else render(target_set, target, inner)
        return row

    def _fragment(self, es: EntitySet, record: dict) -> str:
        """The JSON text of a whole entity with its ETag, cached per record version."""
        cache = self.emu.store.fragments
        key = (es.name, record[es.key])
        version = record.get("__v")
        hit = cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        text = _dumps({"@odata.etag": self.emu.store.etag(record), **render(es, record)})
        cache[key] = (version, text)
        return text

    # single entities ---------------------------------------------------------
    def _entity_payload(self, es: EntitySet, record: dict, req: SLRequest) -> dict:
        return {
            "@odata.context": f"{req.base_url}$metadata#{es.name}/$entity",
            "@odata.etag": self.emu.store.etag(record),
            **render(es, record),
        }

    async def _entity(self, es: EntitySet, key: object, req: SLRequest) -> SLResponse:
        store, writer = self.emu.store, self.emu.writer
        if req.method == "GET":
            record = store.get(es.name, key)
            if record is None:
                raise not_found()
            opts = query.parse_options(
                es, [(k, v) for k, v in req.params if k in ("$select", "$expand")],
                self.emu.user_fields.entity_sets())
            # with $select: no ETag header, and the body's etag is not one for If-Match
            headers = [] if opts.select else [("ETag", store.etag(record))]
            if opts.select or opts.expand:
                ctx = f"{req.base_url}$metadata#{es.name}/$entity"
                return json_response(200, {"@odata.context": ctx,
                                           **self._row(es, record, opts)}, headers)
            ctx = _dumps(f"{req.base_url}$metadata#{es.name}/$entity")
            text = '{"@odata.context":' + ctx + "," + self._fragment(es, record)[1:]
            return SLResponse(200, text.encode("utf-8", "replace"),
                              [("Content-Type", JSON), *headers])
        if es is USER_FIELDS_MD and req.method != "GET":
            raise unsupported(req.method)
        if req.method in ("PATCH", "PUT", "MERGE"):
            body = decode_json(req.body)
            replace_lines = req.headers.get("B1S-ReplaceCollectionsOnPatch", "").lower() == "true"
            writer.update(es, key, body, req.headers.get("If-Match"),
                          replace=req.method == "PUT", replace_lines=replace_lines)
            return SLResponse(204)  # no ETag header, as recorded
        if req.method == "DELETE":
            writer.delete(es, key)
            return SLResponse(204)
        raise ServiceLayerError(405, "-1000", f"Method {req.method} not allowed")

    async def _action(self, es: EntitySet, key: object, name: str, req: SLRequest) -> SLResponse:
        if req.method != "POST":
            raise ServiceLayerError(405, "-1000", f"Method {req.method} not allowed")
        if es.name == "EventSubscriptions":
            return await self.emu.webhooks.action(key, unquote(name), req)
        if name not in ENTITY_ACTIONS:
            raise ServiceLayerError(404, "-1000", f"Unknown action '{name}'")
        self.emu.writer.action(es, key, name)
        return SLResponse(204)
