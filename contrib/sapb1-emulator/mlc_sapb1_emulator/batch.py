"""``$batch``: multipart/mixed requests with atomic changesets (OData v4 answers).

Parts run in order; processing stops at the first failing part. A changeset runs in one
store transaction: if one of its requests fails, the changeset is rolled back and answered by
that single error response. ``$<Content-ID>`` at the start of a URL refers to the entity
created by an earlier request of the same changeset.
"""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from multidict import CIMultiDict

from .errors import ServiceLayerError, bad_request
from .service import SLRequest, SLResponse, error_response

if TYPE_CHECKING:
    from .service import ServiceLayer

INCOMPLETE = "Incomplete Batch Request Body!"
BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


class _ChangesetFailed(Exception):
    def __init__(self, response: SLResponse, content_id: str | None) -> None:
        self.response, self.content_id = response, content_id


def boundary_of(content_type: str) -> str:
    m = BOUNDARY_RE.search(content_type or "")
    if not m or not content_type.lower().startswith("multipart/mixed"):
        raise bad_request(INCOMPLETE)
    return m.group(1) or m.group(2)


def split_parts(body: bytes, boundary: str) -> list[bytes]:
    delim = b"--" + boundary.encode()
    pieces = body.split(delim)
    if len(pieces) < 3:
        raise bad_request(INCOMPLETE)
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            return parts
        parts.append(piece[2:] if piece.startswith(b"\r\n") else piece.lstrip(b"\n"))
    raise bad_request(INCOMPLETE)  # no closing delimiter


def _head_and_body(data: bytes) -> tuple[list[str], bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = data.find(sep)
        if idx >= 0:
            head, body = data[:idx], data[idx + len(sep):]
            break
    else:
        head, body = data, b""
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    return lines, body


def _headers(lines: list[str]) -> CIMultiDict:
    headers: CIMultiDict = CIMultiDict()
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    return headers


def _trim_body(body: bytes) -> bytes:
    if body.endswith(b"\r\n"):
        return body[:-2]
    return body[:-1] if body.endswith(b"\n") else body


class _Part:
    def __init__(self, raw: bytes) -> None:
        lines, rest = _head_and_body(raw)
        self.mime = _headers(lines)
        self.content = rest

    @property
    def is_changeset(self) -> bool:
        return self.mime.get("Content-Type", "").lower().startswith("multipart/mixed")


def _request(part: _Part, outer: SLRequest, refs: dict[str, str]) -> tuple[SLRequest, str | None]:
    lines, body = _head_and_body(part.content)
    lines = [ln for ln in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise bad_request(INCOMPLETE)
    request_line = lines[0].split()
    if len(request_line) < 2:
        raise bad_request(INCOMPLETE)
    method, target = request_line[0].upper(), request_line[1]
    headers = _headers(lines[1:])
    content_id = part.mime.get("Content-ID") or headers.get("Content-ID")
    if target.startswith("$"):
        ref, _, tail = target[1:].partition("/")
        ref_id, _, qs_ref = ref.partition("?")
        if ref_id not in refs:
            raise bad_request(f"Unknown Content-ID reference '${ref_id}'")
        target = refs[ref_id] + ("/" + tail if tail else "") + ("?" + qs_ref if qs_ref else "")
    split = urlsplit(target)
    path = split.path
    marker = path.find("/b1s/v2/")
    if marker >= 0:
        path = path[marker + len("/b1s/v2/"):]
    path = unquote(path.lstrip("/"))
    params = parse_qsl(split.query, keep_blank_values=True)
    return SLRequest(method, path, params, headers, _trim_body(body), outer.base_url,
                     outer.session_id, in_batch=True), content_id


def _location_path(resp: SLResponse, base_url: str) -> str | None:
    for name, value in resp.headers:
        if name.lower() == "location":
            return value[len(base_url):] if value.startswith(base_url) else value
    return None


def _http_part(resp: SLResponse, content_id: str | None) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    status = f"HTTP/1.1 {resp.status} {HTTPStatus(resp.status).phrase}"
    inner = [status, *(f"{k}: {v}" for k, v in resp.headers)]
    text = "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(inner) + "\r\n\r\n"
    return text.encode() + resp.body + b"\r\n"


async def run_batch(service: ServiceLayer, req: SLRequest) -> SLResponse:
    if req.method != "POST":
        raise ServiceLayerError(405, "-1000", "Method not allowed")
    parts = [_Part(p) for p in split_parts(req.body, boundary_of(req.headers.get("Content-Type")))]
    if not parts:
        raise bad_request(INCOMPLETE)
    out_boundary = f"batchresponse_{uuid.uuid4()}"
    chunks: list[bytes] = []
    store = service.emu.store
    for part in parts:
        if part.is_changeset:
            inner = [_Part(p) for p in split_parts(part.content, boundary_of(
                part.mime.get("Content-Type")))]
            cs_boundary = f"changesetresponse_{uuid.uuid4()}"
            try:
                answers = []
                with store.transaction():
                    refs: dict[str, str] = {}
                    for ip in inner:
                        try:
                            sub, cid = _request(ip, req, refs)
                        except ServiceLayerError as exc:
                            raise _ChangesetFailed(error_response(exc), None) from None
                        if sub.method == "GET":
                            err = bad_request("A changeset cannot contain GET requests")
                            raise _ChangesetFailed(error_response(err), cid)
                        resp = await service.handle(sub)
                        if resp.status >= 400:
                            raise _ChangesetFailed(resp, cid)
                        if cid and (loc := _location_path(resp, req.base_url)):
                            refs[cid] = loc
                        answers.append(_http_part(resp, cid))
            except _ChangesetFailed as failed:
                chunks.append(_http_part(failed.response, failed.content_id))
                break
            body = b"".join(f"--{cs_boundary}\r\n".encode() + a for a in answers)
            body += f"--{cs_boundary}--\r\n".encode()
            chunks.append(
                f"Content-Type: multipart/mixed;boundary={cs_boundary}\r\n\r\n".encode() + body
            )
            continue
        try:
            sub, cid = _request(part, req, {})
        except ServiceLayerError as exc:
            chunks.append(_http_part(error_response(exc), None))
            break
        resp = await service.handle(sub)
        chunks.append(_http_part(resp, cid))
        if resp.status >= 400:
            break
    body = b"".join(f"--{out_boundary}\r\n".encode() + c for c in chunks)
    body += f"--{out_boundary}--\r\n".encode()
    return SLResponse(200, body, [("Content-Type", f"multipart/mixed;boundary={out_boundary}")])
