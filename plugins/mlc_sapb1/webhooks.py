"""The webhook receiver at ``/webhooks/sapb1`` (Service Layer FP 2602+).

- Handshake: a GET with ``X-B1-Webhook-Token`` is answered ``{"Challenge": <token>}``.
- Signature: ``X-B1-Webhook-Signature`` must be the HMAC-SHA256 of the token (handshake) or of
  the raw body (delivery) under ``webhook_key``; without a ``webhook_key`` every request is
  refused (403), since anyone who can reach the listener could plant hints. SAP does not document
  the encoding: lowercase or uppercase hex and standard or URL-safe base64 are accepted, and
  compared in constant time. Unsigned or forged requests get 401 and nothing is stored.
- Deliveries: one CloudEvent or an array of them, keys only. Each becomes a hint (entity set,
  key) committed to the plugin's state BEFORE the answer, so an acknowledged delivery is never
  lost; the pollers read hinted entities again by key. Duplicates collapse; order does not
  matter, since the entity is read as it is now.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from typing import Any

from .hints import add_hints, key_ok
from .subscriptions import EVENTS

log = logging.getLogger("hub.plugin.sapb1")

PATH = "/webhooks/sapb1"
_TYPE = re.compile(r"^sap\.b1\.([A-Za-z]+)\.[A-Za-z]+\.v\d+$")
KEY_FIELDS = {"BusinessPartners": "CardCode"}


def _decode_signature(value: str) -> bytes | None:
    value = value.strip()
    if value.lower().startswith("sha256="):
        value = value[7:]
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return bytes.fromhex(value)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw
    return None


def signature_ok(key: str, payload: bytes, header: str | None) -> bool:
    if not header:
        return False
    given = _decode_signature(header)
    expected = hmac.new(key.encode(), payload, hashlib.sha256).digest()
    return given is not None and hmac.compare_digest(given, expected)


def hints_of(events: Any, company_db: str) -> tuple[list[tuple[str, str]], int]:
    """(entity set, key) of each event about this company; and how many were ignored."""
    items = events if isinstance(events, list) else [events]
    hints, ignored = [], 0
    for ev in items:
        if not isinstance(ev, dict):
            ignored += 1
            continue
        m = _TYPE.match(str(ev.get("type", "")))
        source = str(ev.get("source", ""))
        entity = m.group(1) if m else None
        if entity not in EVENTS or not source.lower().endswith("/" + company_db.lower()):
            ignored += 1
            continue
        data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
        key_field = KEY_FIELDS.get(entity, "DocEntry")
        key = data.get(key_field) or ev.get("subject")
        plain = isinstance(key, str | int) and not isinstance(key, bool)
        if not plain or not key_ok(key_field, str(key)):
            ignored += 1
            continue
        hints.append((entity, str(key)))
    return hints, ignored


class WebhookReceiver:
    """The route handler; ``state`` is the plugin's state, ``key`` the HMAC key (or None)."""

    def __init__(self, state: Any, key: str | None, company_db: str) -> None:
        self.state, self.key, self.company_db = state, key, company_db

    def __call__(self, req):
        """``req`` has ``method``, ``headers`` (lower-case names), ``body``, ``remote``;
        the answer is ``(status, JSON body)``."""
        signature = req.headers.get("x-b1-webhook-signature")
        if not self.key:  # anyone reaching the listener could otherwise plant hints
            log.warning("webhook %s from %s refused: plugins.sapb1.webhook_key is not set",
                        req.method, req.remote)  # fmt: skip
            return (403, {"error": "webhooks need plugins.sapb1.webhook_key"})
        if req.method == "GET":
            token = req.headers.get("x-b1-webhook-token")
            if not token:
                return (400, {"error": "X-B1-Webhook-Token missing"})
            if not signature_ok(self.key, token.encode(), signature):
                log.warning(
                    "webhook handshake from %s refused: bad or missing signature", req.remote
                )
                return (401, {"error": "signature"})
            return (200, {"Challenge": token})
        if not signature_ok(self.key, req.body, signature):
            log.warning("webhook delivery from %s refused: bad or missing signature", req.remote)
            return (401, {"error": "signature"})
        try:
            events = json.loads(req.body)
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
            return (400, {"error": "the body is not JSON"})
        hints, ignored = hints_of(events, self.company_db)
        try:
            add_hints(self.state, hints)  # committed before the answer
        except Exception as exc:
            log.error("webhook hints could not be stored (%s); SAP will deliver again", exc)
            return (503, {"error": "not stored"})
        if ignored:
            log.info("webhook delivery: %d events ignored (other company or unknown type)", ignored)
        return (200, {"accepted": len(hints), "ignored": ignored})
