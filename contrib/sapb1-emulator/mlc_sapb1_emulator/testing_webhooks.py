"""An HTTPS webhook receiver for tests, running in a thread (answers the handshake challenge,
records requests, fails on plan)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


class WebhookReceiver:
    """Records requests per path; ``plan[path]`` lists statuses to answer POSTs with (then 200);
    ``bad_challenge`` paths answer the handshake wrongly."""

    def __init__(self, ca: trustme.CA) -> None:
        self.ca = ca
        self.requests: list[dict] = []
        self.plan: dict[str, list[int]] = {}
        self.bad_challenge: set[str] = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self, body: bytes) -> None:
                with receiver.lock:
                    receiver.requests.append({"method": self.command, "path": self.path,
                                              "headers": dict(self.headers), "body": body})

            def do_GET(self):  # noqa: N802
                self._record(b"")
                token = self.headers.get("X-B1-Webhook-Token", "")
                if self.path in receiver.bad_challenge:
                    token = "wrong"
                payload = json.dumps({"Challenge": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._record(body)
                with receiver.lock:
                    plan = receiver.plan.get(self.path) or []
                    status = plan.pop(0) if plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}{path}"

    def received(self, path: str, method: str = "POST") -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path and r["method"] == method]

    def wait_for(self, path: str, count: int, timeout: float = 15.0,
                 method: str = "POST") -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path, method)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.received(path, method))} of {count} requests")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
