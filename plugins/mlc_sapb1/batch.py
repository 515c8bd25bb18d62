"""``$batch`` bodies: one changeset per write, and the multipart answer read back.

A changeset is atomic and answered either by its responses or by one error; the server stops
at the first failing part, so a caller sends again what got no answer.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
CRLF = "\r\n"


@dataclass
class BatchWrite:
    """One request of its own changeset."""

    method: str
    path: str  # below the Service Layer root, e.g. "Orders" or "Orders(12)"
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    target: str | None = None  # the key of the entity written, when known before


@dataclass
class PartResponse:
    status: int
    body: Any
    headers: dict[str, str]


def encode(writes: list[BatchWrite], root_path: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a ``$batch`` with one changeset per write (unquoted boundaries)."""
    batch = f"batch_{uuid.uuid4().hex}"
    lines: list[str] = []
    for i, w in enumerate(writes, 1):
        cs = f"changeset_{uuid.uuid4().hex}"
        payload = json.dumps(w.body) if w.body is not None else ""
        lines += [
            f"--{batch}",
            f"Content-Type: multipart/mixed;boundary={cs}",
            "",
            f"--{cs}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {i}",
            "",
            f"{w.method} {root_path}{w.path} HTTP/1.1",
            "Content-Type: application/json",
            *(f"{k}: {v}" for k, v in (w.headers or {}).items()),
            "",
            payload,
            f"--{cs}--",
        ]
    lines += [f"--{batch}--", ""]
    return f"multipart/mixed;boundary={batch}", CRLF.join(lines).encode()


def boundary(content_type: str) -> str | None:
    m = _BOUNDARY.search(content_type or "")
    return (m.group(1) or m.group(2)) if m else None


def _split(body: bytes, bound: str) -> list[bytes]:
    pieces = body.split(b"--" + bound.encode())
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        parts.append(piece.lstrip(b"\r\n"))
    return parts


def _head(data: bytes) -> tuple[list[str], bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = data.find(sep)
        if idx >= 0:
            return data[:idx].decode("utf-8", "replace").splitlines(), data[idx + len(sep) :]
    return data.decode("utf-8", "replace").splitlines(), b""


def _headers(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


def _http_response(part: bytes) -> PartResponse:
    _, inner = _head(part)  # the MIME headers of the part
    head, body = _head(inner)
    status_line = head[0] if head else ""
    m = re.match(r"HTTP/\d\.\d\s+(\d{3})", status_line)
    status = int(m.group(1)) if m else 0
    text = body.strip()
    try:
        decoded: Any = json.loads(text) if text else None
    except ValueError:
        decoded = text.decode("utf-8", "replace")
    return PartResponse(status, decoded, _headers(head[1:]))


def decode(content_type: str, body: bytes) -> list[list[PartResponse]]:
    """The answer: per changeset (in order) its responses; fewer entries than changesets sent
    means the server stopped before the rest."""
    bound = boundary(content_type)
    if not bound:
        raise ValueError("the $batch answer is not multipart")
    out: list[list[PartResponse]] = []
    for part in _split(body, bound):
        head, inner = _head(part)
        ctype = _headers(head).get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            inner_bound = boundary(ctype)
            out.append([_http_response(p) for p in _split(inner, inner_bound or "")])
        else:
            out.append([_http_response(part)])
    return out
