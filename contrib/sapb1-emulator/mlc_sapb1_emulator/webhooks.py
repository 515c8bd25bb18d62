"""Webhooks as in 10.0 FP 2602: the admin switch, EventSubscriptions and their actions,
the event catalog, the handshake and CloudEvents deliveries with retries.

Deliveries are JSON arrays of CloudEvents carrying keys only. A failed delivery (5xx, 408, 429
or a network error) is retried after 2, 4, 8, 16 and 32 seconds (times ``webhook_retry_scale``);
when the last retry fails the subscription turns ``Exceptional`` and keeps its queue until
``/Resume``. Signatures are hex HMAC-SHA256: of the token in the handshake, of the body in
deliveries (``X-B1-Webhook-Signature``).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import logging
import ssl
import uuid
from collections import deque
from typing import TYPE_CHECKING

import httpx

from .errors import ServiceLayerError, bad_request, business_error, not_found
from .schema import ENTITY_SETS, WEBHOOK_OBJECTS, enum_long

if TYPE_CHECKING:
    from .emulator import Emulator
    from .service import SLRequest, SLResponse

log = logging.getLogger(__name__)

RETRY_DELAYS = (2, 4, 8, 16, 32)
TRANSACTIONS = {"Create": "Created", "Update": "Updated", "Delete": "Deleted"}
RETENTION_SECONDS = 24 * 3600
BATCH_SIZE = 100


def _credentials(record: dict) -> dict:
    raw = record.get("AuthenticationCred")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request("AuthenticationCred must be a JSON string") from None
    if not isinstance(value, dict):
        raise bad_request("AuthenticationCred must be a JSON object")
    return value


def validate_subscription(writer, record: dict) -> None:
    url = record.get("WebhookURL") or ""
    if not url.lower().startswith("https://"):
        raise business_error("WebhookURL must be an HTTPS URL")
    if writer is not None:
        for other in writer.store.tables["EventSubscriptions"].values():
            if other["WebhookURL"] == url and other["WebhookID"] != record.get("WebhookID"):
                raise business_error(f"WebhookURL '{url}' is already subscribed")
    cred = _credentials(record)
    if record.get("AuthenticationType") == "HMAC" and not cred.get("Key"):
        raise business_error("HMAC authentication needs a Key in AuthenticationCred")
    for item in record.get("EventCollection") or []:
        if item.get("BusinessObject") not in WEBHOOK_OBJECTS:
            raise business_error(f"Unknown BusinessObject '{item.get('BusinessObject')}'")
        if item.get("TransactionType") not in TRANSACTIONS:
            raise business_error(f"Unknown TransactionType '{item.get('TransactionType')}'")


def signature(key: str, payload: bytes) -> str:
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()


class WebhookService:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.admin_info = {"EnableWebhook": "tNO"}
        self.log: deque[tuple[float, dict]] = deque()
        self.queues: dict[str, deque] = {}
        self.wakeups: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.stats = {"delivered": 0, "attempts": 0, "failed_attempts": 0, "dropped": 0,
                      "handshakes": 0}

    # service calls -----------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.admin_info.get("EnableWebhook") == "tYES"

    def require_enabled(self) -> None:
        if not self.enabled:
            raise bad_request("Webhook is not enabled; enable it in the administration settings")

    def service_call(self, req: SLRequest, path: str) -> SLResponse:
        from .service import SLResponse, decode_json, json_response

        if path == "CompanyService_UpdateAdminInfo" and req.method in ("POST", "PATCH"):
            body = decode_json(req.body)
            info = body.get("AdminInfo") if isinstance(body, dict) else None
            if not isinstance(info, dict):
                raise bad_request("AdminInfo is required")
            if "EnableWebhook" in info:
                value = enum_long("BoYesNoEnum", str(info["EnableWebhook"]))
                if value is None:
                    raise bad_request("Value of property 'EnableWebhook' is invalid")
                self.admin_info["EnableWebhook"] = value
            return SLResponse(204)
        if path == "CompanyService_GetAdminInfo" and req.method in ("POST", "GET"):
            return json_response(200, dict(self.admin_info))
        if path == "EventSubscriptionsService_GetEventCatalog" and req.method in ("POST", "GET"):
            self.require_enabled()
            catalog = [{"BusinessObject": name, "TransactionType": t}
                       for name in WEBHOOK_OBJECTS for t in TRANSACTIONS]
            return json_response(200, {"value": catalog})
        raise ServiceLayerError(404, "-1000", f"Resource not found for the segment '{path}'")

    async def action(self, key: str, name: str, req: SLRequest) -> SLResponse:
        from .service import SLResponse, decode_json

        record = self.emu.store.get("EventSubscriptions", key)
        if record is None:
            raise not_found()
        if name == "Pause":
            self._set_state(key, "Inactive")
        elif name == "Resume":
            self._set_state(key, "Active")
            self._wake(key)
        elif name == "Handshake":
            await self.handshake(record)
        elif name == "Replay":
            body = decode_json(req.body)
            self.replay(key, body if isinstance(body, dict) else {})
        else:
            raise ServiceLayerError(404, "-1000", f"Unknown action '{name}'")
        return SLResponse(204)

    def _set_state(self, key: str, state: str) -> None:
        store = self.emu.store
        current = store.get("EventSubscriptions", key)
        if current is None:
            return
        record = copy.deepcopy(current)
        record["State"] = state
        with store.transaction():
            store.put("EventSubscriptions", key, record, None)

    # handshake ---------------------------------------------------------------
    def _client(self, record: dict) -> httpx.AsyncClient:
        verify: bool | ssl.SSLContext = True
        if record.get("VerifyCertificate") == "tNO":
            verify = False
        elif self.emu.settings.get("webhook_ca_bundle"):
            verify = ssl.create_default_context(cafile=self.emu.settings["webhook_ca_bundle"])
        return httpx.AsyncClient(verify=verify, timeout=self.emu.settings["webhook_timeout"])

    async def handshake_if_asked(self, body: object) -> None:
        asked = isinstance(body, dict) and body.get("Handshake", "tYES")
        if asked and enum_long("BoYesNoEnum", str(asked)) == "tYES":
            candidate = {"AuthenticationType": "HMAC", "VerifyCertificate": "tYES"} | body
            for name in ("AuthenticationType", "VerifyCertificate"):
                f = ENTITY_SETS["EventSubscriptions"].by_name[name]
                candidate[name] = enum_long(f.enum, str(candidate[name])) or candidate[name]
            validate_subscription(None, candidate)
            await self.handshake(candidate)

    async def handshake(self, record: dict) -> None:
        token = uuid.uuid4().hex
        headers = {"X-B1-Webhook-Token": token}
        cred = _credentials(record)
        if record.get("AuthenticationType", "HMAC") == "HMAC" and cred.get("Key"):
            headers["X-B1-Webhook-Signature"] = signature(cred["Key"], token.encode())
        self._auth_headers(record, cred, headers)
        try:
            async with self._client(record) as client:
                resp = await client.get(record["WebhookURL"], headers=headers)
            ok = resp.status_code == 200 and resp.json().get("Challenge") == token
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.info("webhook handshake with %s failed: %s", record.get("WebhookURL"), exc)
            ok = False
        self.stats["handshakes"] += 1
        if not ok:
            raise business_error("Webhook handshake failed: the receiver did not answer the "
                                 "challenge")

    @staticmethod
    def _auth_headers(record: dict, cred: dict, headers: dict) -> None:
        kind = record.get("AuthenticationType")
        if kind == "Basic":
            raw = f"{cred.get('UserName', '')}:{cred.get('Password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif kind == "OAuth" and cred.get("Token"):
            headers["Authorization"] = "Bearer " + cred["Token"]

    # events ------------------------------------------------------------------
    def on_commit(self, events: list) -> None:
        if not self.enabled:
            return
        now = self.emu.clock.now()
        for set_name, key, transaction in events:
            if set_name not in WEBHOOK_OBJECTS:
                continue
            event = {
                "id": str(uuid.uuid4()), "specversion": "1.0",
                "source": f"/default/sap.b1/{self.emu.settings['company']}",
                "type": f"sap.b1.{set_name}.{TRANSACTIONS[transaction]}.v1",
                "subject": str(key),
                "time": now.isoformat(timespec="milliseconds") + "Z",
                "datacontenttype": "application/json",
                "data": {ENTITY_SETS[set_name].key: str(key)},
            }
            self.log.append((dt.datetime.now(dt.UTC).timestamp(), event))
            for sub in self.emu.store.tables["EventSubscriptions"].values():
                if any(c.get("BusinessObject") == set_name and c.get("TransactionType")
                       == transaction for c in sub.get("EventCollection") or []):
                    self.queues.setdefault(sub["WebhookID"], deque()).append(event)
                    self._wake(sub["WebhookID"])
        cutoff = dt.datetime.now(dt.UTC).timestamp() - RETENTION_SECONDS
        while self.log and self.log[0][0] < cutoff:
            self.log.popleft()

    def replay(self, key: str, body: dict) -> None:
        start, end = body.get("StartTime") or body.get("FromTime"), body.get("EndTime")
        queue = self.queues.setdefault(key, deque())
        sub = self.emu.store.get("EventSubscriptions", key)
        wanted = {(c.get("BusinessObject"), c.get("TransactionType"))
                  for c in sub.get("EventCollection") or []}
        for _, event in self.log:
            _, _, set_name, past, _ = event["type"].split(".")
            transaction = next(t for t, p in TRANSACTIONS.items() if p == past)
            if (set_name, transaction) not in wanted:
                continue
            if (start and event["time"] < start) or (end and event["time"] > end):
                continue
            queue.append(event)
        self._wake(key)

    def _wake(self, key: str) -> None:
        wake = self.wakeups.setdefault(key, asyncio.Event())
        wake.set()
        task = self.tasks.get(key)
        if task is None or task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not serving yet (seeding at start): delivered on next wake
                return
            self.tasks[key] = loop.create_task(self._deliver_loop(key))

    async def _deliver_loop(self, key: str) -> None:
        wake = self.wakeups[key]
        queue = self.queues.setdefault(key, deque())
        while True:
            await wake.wait()
            wake.clear()
            while queue:
                sub = self.emu.store.get("EventSubscriptions", key)
                if sub is None:
                    queue.clear()
                    return
                if sub.get("State") != "Active":
                    break
                batch = [queue[i] for i in range(min(BATCH_SIZE, len(queue)))]
                outcome = await self._send_with_retries(sub, batch)
                if outcome == "exceptional":
                    self._set_state(key, "Exceptional")
                    break
                for _ in batch:
                    queue.popleft()

    async def _send_with_retries(self, sub: dict, batch: list) -> str:
        body = json.dumps(batch).encode()
        headers = {"Content-Type": "application/json"}
        cred = _credentials(sub)
        if sub.get("AuthenticationType") == "HMAC" and cred.get("Key"):
            headers["X-B1-Webhook-Signature"] = signature(cred["Key"], body)
        self._auth_headers(sub, cred, headers)
        scale = self.emu.settings["webhook_retry_scale"]
        async with self._client(sub) as client:
            for attempt in range(len(RETRY_DELAYS) + 1):
                self.stats["attempts"] += 1
                try:
                    resp = await client.post(sub["WebhookURL"], content=body, headers=headers)
                    status = resp.status_code
                except httpx.HTTPError as exc:
                    log.info("webhook delivery to %s failed: %s", sub["WebhookURL"], exc)
                    status = None
                if status is not None and 200 <= status < 300:
                    self.stats["delivered"] += len(batch)
                    return "delivered"
                self.stats["failed_attempts"] += 1
                if status is not None and status < 500 and status not in (408, 429):
                    self.stats["dropped"] += len(batch)
                    return "dropped"
                if attempt < len(RETRY_DELAYS):
                    await asyncio.sleep(RETRY_DELAYS[attempt] * scale)
        return "exceptional"

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
