"""The listener against hostile clients: bodies trickled in or never finished must not hold a
connection open for good, and must not keep other requests from being answered."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from hub.listener import HttpResponse, HubListener, Router


@pytest.fixture
def listener():
    routes = []
    Router("test", state=None, into=routes).add(
        "POST", "/echo", lambda req: HttpResponse(200, {"len": len(req.body)})
    )
    lst = HubListener("127.0.0.1:0", routes, max_body=1000, body_timeout=1.0)
    lst.start()
    yield lst
    lst.stop()


def _read_answer(sock: socket.socket, deadline: float) -> bytes:
    """The bytes the server sent until it finished an answer (its JSON body closes with ``}``)."""
    data = b""
    while time.monotonic() < deadline and not data.endswith(b"}"):
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_a_body_that_never_arrives_is_answered_408_and_closed(listener):
    """aiohttp alone waits for the body for ever; the connection then closes (after aiohttp's
    short lingering read, bounded)."""
    slow = []
    for _ in range(8):  # more than the handler threads
        sock = socket.create_connection((listener.host, listener.port))
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        slow.append(sock)
    try:
        ok = httpx.post(listener.url + "/echo", content=b"abc", timeout=5)
        assert ok.status_code == 200 and ok.json() == {"len": 3}
        deadline = time.monotonic() + 10
        for sock in slow:
            answer = _read_answer(sock, deadline)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
            assert b"Connection: close" in answer
    finally:
        for sock in slow:
            sock.close()


def test_a_client_that_never_finishes_its_headers_is_disconnected():
    """aiohttp alone keeps such a connection open for good (seen: still open after 100 s)."""
    routes = []
    Router("test", state=None, into=routes).add("POST", "/echo", lambda req: HttpResponse(200))
    lst = HubListener("127.0.0.1:0", routes, header_timeout=1.0)
    lst.start()
    try:
        slow = socket.create_connection((lst.host, lst.port))
        slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        kept = httpx.Client(timeout=5)  # a kept-alive client that did send a request
        assert kept.post(lst.url + "/echo", content=b"x").status_code == 200
        slow.settimeout(10)
        started = time.monotonic()
        assert slow.recv(100) == b""  # closed by the server
        assert time.monotonic() - started < 9
        assert kept.post(lst.url + "/echo", content=b"y").status_code == 200  # still served
        kept.close()
        slow.close()
    finally:
        lst.stop()
