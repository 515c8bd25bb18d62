"""The Pub/Sub API client (gRPC over TLS) and a self-healing subscription.

:class:`PubSubClient` makes the unary calls (``GetTopic``, ``GetSchema``) with the
``accesstoken``/``instanceurl``/``tenantid`` metadata, replacing a token the server answered
``UNAUTHENTICATED`` once (single flight, shared with REST) and retrying.

:class:`Subscription` runs one ``Subscribe`` stream in a thread and puts what it receives on a
queue as :class:`StreamItem` s. It asks for more events when ``pending_num_requested`` runs low
(flow control), resumes from the last replay id it received after a dropped stream (backoff with
jitter) or a rejected token (after one refresh), and when the server refuses the replay id as
expired or corrupted it reports that and re-subscribes at LATEST: the reader backfills the gap
by SOQL, so nothing is skipped silently.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from hub import FatalError, RetriableError

from .auth import OrgToken
from .pubsub_proto import pubsub_api_pb2 as pb
from .pubsub_proto import pubsub_api_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

RPC_TIMEOUT = 30.0
REPLAY_REFUSED = ("replayid.corrupted", "replayid.validation.failed")


def error_code(exc: grpc.RpcError) -> str:
    """The ``error-code`` trailer Salesforce attaches to Pub/Sub errors ('' when absent)."""
    try:
        for key, value in exc.trailing_metadata() or ():
            if key == "error-code":
                return value
    except Exception:  # noqa: BLE001 - a call without trailers
        return ""
    return ""


class PubSubClient:
    def __init__(self, endpoint: str, token: OrgToken, ca_bundle: str | None) -> None:
        self.endpoint = endpoint
        self.token = token
        root = Path(ca_bundle).read_bytes() if ca_bundle else None
        creds = grpc.ssl_channel_credentials(root_certificates=root)
        self.channel = grpc.secure_channel(
            endpoint, creds, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        )
        self.stub = pb_grpc.PubSubStub(self.channel)

    def metadata(self, access_token: str | None = None) -> list[tuple[str, str]]:
        tok = self.token.current()
        return [
            ("accesstoken", access_token or tok.access_token),
            ("instanceurl", tok.instance_url),
            ("tenantid", tok.org_id),
        ]

    def _unary(self, what: str, method: Any, request: Any) -> Any:
        stale = self.token.current().access_token
        for attempt in (1, 2):
            try:
                return method(request, metadata=self.metadata(), timeout=RPC_TIMEOUT)
            except grpc.RpcError as exc:
                code = exc.code()
                if code == grpc.StatusCode.UNAUTHENTICATED and attempt == 1:
                    stale = self.token.refresh(stale).access_token
                    continue
                if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise RetriableError(f"Pub/Sub {what}: {code.name}") from None
                raise PubSubError(what, exc) from None
        raise AssertionError("unreachable")

    def get_topic(self, topic: str) -> Any:
        return self._unary("GetTopic", self.stub.GetTopic, pb.TopicRequest(topic_name=topic))

    def get_schema(self, schema_id: str) -> str:
        info = self._unary("GetSchema", self.stub.GetSchema, pb.SchemaRequest(schema_id=schema_id))
        return info.schema_json

    def close(self) -> None:
        self.channel.close()


class PubSubError(FatalError):
    def __init__(self, what: str, exc: grpc.RpcError) -> None:
        self.code = exc.code()
        self.error_code = error_code(exc)
        details = (exc.details() or "")[:300]
        super().__init__(f"Pub/Sub {what}: {self.code.name} {self.error_code}: {details}")


@dataclass
class StreamItem:
    """What a subscription hands its reader.

    ``kind``: ``"events"`` (``response`` has events), ``"keepalive"`` (no events: caught up;
    ``latest_replay_id`` moves the resume point), ``"replay_refused"`` (the stored replay id was
    refused; the stream restarted at LATEST), ``"reconnecting"`` (``detail`` says why).
    """

    kind: str
    response: Any = None
    detail: str = ""
    at: float = field(default=0.0)


class Subscription:
    """One topic, one stream at a time, restarted until :meth:`close`."""

    def __init__(
        self,
        client: PubSubClient,
        topic: str,
        replay_id: bytes | None,
        *,
        batch: int = 100,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.client = client
        self.topic = topic
        self.replay_id = replay_id  # resume after this; None: LATEST
        self.batch = max(1, min(batch, 100))
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.items: queue.Queue[StreamItem] = queue.Queue()
        self._closed = threading.Event()
        self.ready = threading.Event()  # the server answered: the stream has its position
        self._call: Any = None
        self._thread = threading.Thread(target=self._run, name=f"sf-pubsub{topic}", daemon=True)
        self.connects = 0
        self.requests_sent = 0

    def start(self) -> Subscription:
        self._thread.start()
        return self

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._closed.is_set()

    def close(self) -> None:
        self._closed.set()
        call = self._call
        if call is not None:
            call.cancel()
        self._thread.join(5)

    def _requests(self, outbox: queue.Queue) -> Iterator[Any]:
        while True:
            req = outbox.get()
            if req is None:
                return
            self.requests_sent += 1
            yield req

    def _first_request(self) -> Any:
        if self.replay_id:
            return pb.FetchRequest(
                topic_name=self.topic,
                replay_preset=pb.CUSTOM,
                replay_id=self.replay_id,
                num_requested=self.batch,
            )
        return pb.FetchRequest(
            topic_name=self.topic, replay_preset=pb.LATEST, num_requested=self.batch
        )

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            outbox: queue.Queue = queue.Queue()
            outbox.put(self._first_request())
            stale = ""
            try:
                stale = self.client.token.current().access_token
                self.connects += 1
                self._call = self.client.stub.Subscribe(
                    self._requests(outbox), metadata=self.client.metadata(stale)
                )
                for resp in self._call:
                    failures = 0
                    self.ready.set()
                    if resp.events:
                        self.replay_id = resp.events[-1].replay_id
                        self.items.put(StreamItem("events", resp))
                    else:
                        if resp.latest_replay_id:
                            self.replay_id = resp.latest_replay_id
                        self.items.put(StreamItem("keepalive", resp))
                    if resp.pending_num_requested <= self.batch // 2:
                        more = self.batch - resp.pending_num_requested
                        outbox.put(pb.FetchRequest(topic_name=self.topic, num_requested=more))
                reason = "stream ended"
            except grpc.RpcError as exc:
                if self._closed.is_set():
                    return
                code, trailer = exc.code(), error_code(exc)
                if code == grpc.StatusCode.UNAUTHENTICATED and failures == 0:
                    failures += 1
                    self._refresh(stale)
                    self.items.put(StreamItem("reconnecting", detail="token refreshed"))
                    continue
                if code == grpc.StatusCode.INVALID_ARGUMENT and any(
                    r in trailer for r in REPLAY_REFUSED
                ):
                    self.ready.clear()  # positioned again at LATEST by the next stream
                    self.items.put(StreamItem("replay_refused", detail=trailer))
                    self.replay_id = None
                    continue
                if code == grpc.StatusCode.UNAUTHENTICATED:
                    self._refresh(stale)
                reason = f"{code.name} {trailer}".strip()
            except FatalError as exc:  # credentials rejected, TLS refused: no retry can help
                self.items.put(StreamItem("fatal", detail=str(exc)))
                self._closed.set()
                return
            except Exception as exc:  # noqa: BLE001 - keep the subscription alive
                reason = f"{type(exc).__name__}: {exc}"[:200]
            finally:
                outbox.put(None)
            if self._closed.is_set():
                return
            failures += 1
            delay = random.random() * min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
            log.warning("Pub/Sub %s: %s; reconnecting in %.1fs", self.topic, reason, delay)
            self.items.put(StreamItem("reconnecting", detail=reason))
            self._closed.wait(delay)

    def _refresh(self, stale: str) -> None:
        try:
            self.client.token.refresh(stale)
        except FatalError as exc:  # credentials rejected, TLS refused: no retry can help
            self.items.put(StreamItem("fatal", detail=str(exc)))
            self._closed.set()
        except Exception as exc:  # noqa: BLE001 - reported through the queue, retried later
            log.warning("Pub/Sub %s: token refresh failed: %s", self.topic, exc)
