"""One SMTP conversation per mail, always over TLS (STARTTLS or implicit), verified."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .config import MailConfig


class MailError(Exception):
    """A mail could not be handed to the server (the text names the server, never a secret)."""


def build(config: MailConfig, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def open_smtp(config: MailConfig) -> smtplib.SMTP:
    ctx = config.ssl_context()
    if config.tls == "implicit":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=ctx
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            smtp.quit()
            raise MailError(f"{config.host}:{config.port} does not offer STARTTLS; not sending")
        smtp.starttls(context=ctx)
        smtp.ehlo()
    if config.username:
        smtp.login(config.username, config.password or "")
    return smtp


def send(config: MailConfig, msg: EmailMessage) -> None:
    where = f"{config.host}:{config.port}"
    try:
        with open_smtp(config) as smtp:
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"{where} refused the login of {config.username} ({exc.smtp_code})"
        ) from None
    except smtplib.SMTPException as exc:
        raise MailError(f"{where}: {type(exc).__name__}: {exc}") from None
    except OSError as exc:  # includes ssl.SSLError: a certificate not trusted
        raise MailError(f"{where}: {type(exc).__name__}: {exc}") from None
