"""Helpers of the e-mail tests: a real SMTP server on a free loopback port (aiosmtpd),
STARTTLS or implicit TLS with a throw-away trustme CA, and a login required over TLS."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "hub@example.com", "smtp-Pw-8d2f-secret"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None
    tls: bool


class Inbox:
    def __init__(self) -> None:
        self.mails: list[Received] = []
        self.logins: list[tuple[str, bool]] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        login = session.auth_data.login.decode() if session.auth_data else None
        tls = session.ssl is not None
        with self._cond:
            self.mails.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), msg, login, tls)
            )
            self._cond.notify_all()
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD)  # fmt: skip
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def wait_for(self, n: int, timeout: float = 15.0) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.mails) >= n, timeout):
                raise AssertionError(f"expected {n} mail(s), got {len(self.mails)}")
            return list(self.mails)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(ca, *, implicit: bool):
    inbox = Inbox()
    ctx = ca.issue_cert("127.0.0.1").configure_cert  # fill a server context below
    import ssl

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx(server_ctx)
    tls = {"ssl_context": server_ctx} if implicit else {"tls_context": server_ctx,
                                                         "require_starttls": True}  # fmt: skip
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=inbox.authenticate,
        # aiosmtpd knows of TLS only from STARTTLS; with implicit TLS the whole session is TLS
        auth_require_tls=not implicit, **tls,
    )  # fmt: skip
    controller.start()
    return controller, inbox


def settings(port: int, ca_file: str | None, **extra) -> dict:
    return {"host": "127.0.0.1", "port": port, "tls": "starttls", "username": USER,
            "password": PASSWORD, "ca_bundle": ca_file, "sender": "hub@example.com",
            "recipients": ["ops@example.com", "oncall@example.com"], **extra}  # fmt: skip
