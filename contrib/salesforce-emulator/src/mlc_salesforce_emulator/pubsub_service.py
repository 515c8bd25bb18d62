"""The Pub/Sub API (``eventbus.v1.PubSub``) served with grpc.aio on the shared event loop."""

from __future__ import annotations

import asyncio
import logging
import uuid

import grpc
from google.protobuf.message import DecodeError

from .event_bus import decode_replay_id, encode_replay_id
from .proto import pubsub_api_pb2 as pb
from .proto import pubsub_api_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
UNAVAILABLE = "sfdc.platform.eventbus.grpc.service.unavailable"
REPLAY_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
REPLAY_INVALID = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed"
TOPIC_NOT_FOUND = "sfdc.platform.eventbus.grpc.topic.not.found"
SCHEMA_NOT_FOUND = "sfdc.platform.eventbus.grpc.schema.not.found"
INVALID_REQUEST = "sfdc.platform.eventbus.grpc.subscription.fetch.invalid.request"
MAX_PENDING = 100
BAD_REQUEST = "sfdc.platform.eventbus.grpc.invalid.request"


def _tolerant(parse):
    """A request deserializer that yields None for a corrupt message instead of raising."""
    def deserialize(data: bytes):
        try:
            return parse(data)
        except DecodeError:
            return None
    return deserialize


def add_pubsub_service(server, org) -> None:
    """Register ``eventbus.v1.PubSub`` so that garbage requests get INVALID_ARGUMENT."""
    service = PubSubService(org)
    kinds = {
        "Subscribe": (grpc.stream_stream_rpc_method_handler, pb.FetchRequest, pb.FetchResponse),
        "GetSchema": (grpc.unary_unary_rpc_method_handler, pb.SchemaRequest, pb.SchemaInfo),
        "GetTopic": (grpc.unary_unary_rpc_method_handler, pb.TopicRequest, pb.TopicInfo),
        "Publish": (grpc.unary_unary_rpc_method_handler, pb.PublishRequest, pb.PublishResponse),
        "PublishStream": (grpc.stream_stream_rpc_method_handler, pb.PublishRequest,
                          pb.PublishResponse),
        "ManagedSubscribe": (grpc.stream_stream_rpc_method_handler, pb.ManagedFetchRequest,
                             pb.ManagedFetchResponse),
    }
    handlers = {
        name: make(getattr(service, name), request_deserializer=_tolerant(req.FromString),
                   response_serializer=resp.SerializeToString)
        for name, (make, req, resp) in kinds.items()
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("eventbus.v1.PubSub", handlers),))


async def reject_garbage(context, request, rpc_id: str) -> None:
    if request is None:
        await abort(context, grpc.StatusCode.INVALID_ARGUMENT, BAD_REQUEST,
                    "The request could not be parsed", rpc_id)


def with_rpc_id(message: str, rpc_id: str) -> str:
    """Status details as a real server words them: the message, then ``rpcId: <id>``."""
    return f"{message.rstrip('.')}. rpcId: {rpc_id}"


async def abort(context, code: grpc.StatusCode, error_code: str, message: str, rpc_id: str):
    await context.abort(code, with_rpc_id(message, rpc_id),
                        trailing_metadata=(("error-code", error_code), ("rpc-id", rpc_id)))


class PubSubService(pb_grpc.PubSubServicer):
    def __init__(self, org) -> None:
        self.org = org

    async def _authenticate(self, context, rpc_id: str) -> str:
        meta = {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
        token = meta.get("accesstoken")
        if (self.org.sessions.validate(token) is None or meta.get("tenantid") != self.org.org_id
                or not meta.get("instanceurl")):
            await abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                        "Authentication exception: the access token, instance url or tenant id "
                        "is missing, invalid or expired", rpc_id)
        return token

    async def _topic(self, context, name: str, rpc_id: str) -> dict:
        info = self.org.cdc.topic_info(name) if name else None
        if info is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_NOT_FOUND,
                        f"Topic not found or not accessible: {name!r}", rpc_id)
        return info

    async def GetTopic(self, request, context):
        rpc_id = str(uuid.uuid4())
        await reject_garbage(context, request, rpc_id)
        await self._authenticate(context, rpc_id)
        info = await self._topic(context, request.topic_name, rpc_id)
        return pb.TopicInfo(topic_name=request.topic_name, tenant_guid=self.org.org_id,
                            can_publish=info["can_publish"], can_subscribe=True,
                            schema_id=info["schema_id"], rpc_id=rpc_id)

    async def GetSchema(self, request, context):
        rpc_id = str(uuid.uuid4())
        await reject_garbage(context, request, rpc_id)
        await self._authenticate(context, rpc_id)
        schema = self.org.cdc.schemas.get(request.schema_id)
        if schema is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, SCHEMA_NOT_FOUND,
                        f"Schema not found: {request.schema_id!r}", rpc_id)
        return pb.SchemaInfo(schema_json=schema, schema_id=request.schema_id, rpc_id=rpc_id)

    def _publish(self, request, info: dict | None, rpc_id: str) -> pb.PublishResponse:
        results = []
        for event in request.events:
            result = pb.PublishResult(correlation_key=event.id)
            if info is None or not info["can_publish"]:
                result.error.CopyFrom(pb.Error(code=pb.PUBLISH,
                                               msg="Publishing to this topic is not allowed"))
            else:
                try:
                    replay = self.org.cdc.publish_platform_event(
                        request.topic_name, event.schema_id, event.payload, event.id)
                    result.replay_id = encode_replay_id(replay)
                except Exception as exc:  # any undecodable payload is this event's error
                    result.error.CopyFrom(pb.Error(code=pb.PUBLISH,
                                                   msg=f"invalid event payload: {exc}"))
            results.append(result)
        return pb.PublishResponse(results=results, schema_id=(info or {}).get("schema_id", ""),
                                  rpc_id=rpc_id)

    async def Publish(self, request, context):
        rpc_id = str(uuid.uuid4())
        await reject_garbage(context, request, rpc_id)
        await self._authenticate(context, rpc_id)
        info = await self._topic(context, request.topic_name, rpc_id)
        return self._publish(request, info, rpc_id)

    async def PublishStream(self, request_iterator, context):
        rpc_id = str(uuid.uuid4())
        await self._authenticate(context, rpc_id)
        async for request in request_iterator:
            await reject_garbage(context, request, rpc_id)
            if request.auth_refresh and self.org.sessions.validate(request.auth_refresh) is None:
                await abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                            "Authentication exception", rpc_id)
            yield self._publish(request, self.org.cdc.topic_info(request.topic_name), rpc_id)

    async def ManagedSubscribe(self, request_iterator, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, with_rpc_id(
            "ManagedSubscribe is not available in this org", str(uuid.uuid4())))

    async def Subscribe(self, request_iterator, context):
        rpc_id = str(uuid.uuid4())
        token = await self._authenticate(context, rpc_id)
        try:
            first = await request_iterator.__anext__()
        except StopAsyncIteration:
            return
        await reject_garbage(context, first, rpc_id)
        topic = first.topic_name
        await self._topic(context, topic, rpc_id)
        position = await self._start_position(context, topic, first, rpc_id)
        stream = SubscriptionStream(self.org, topic, token, first.num_requested)
        log.info("subscription %s opened on %s after replay id %s", rpc_id, topic, position)
        try:
            async for response in stream.run(request_iterator, position, rpc_id):
                yield response
            if stream.failure:
                code, error_code, message = stream.failure
                await abort(context, code, error_code, message, rpc_id)
        finally:
            stream.close()
            log.info("subscription %s on %s closed%s", rpc_id, topic,
                     f": {stream.failure[1]}" if stream.failure else "")

    async def _start_position(self, context, topic: str, first, rpc_id: str) -> int:
        bus = self.org.bus
        bus.purge()
        log_ = bus.log(topic)
        if first.replay_preset == pb.EARLIEST:
            return log_.purged_upto
        if first.replay_preset == pb.CUSTOM:
            replay = decode_replay_id(first.replay_id)
            problem = "validation" if replay is None else bus.check_replay(topic, replay)
            if problem == "corrupted":
                await abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_CORRUPTED,
                            "The Replay ID validation failed: the replay id is outside the "
                            "retention window", rpc_id)
            elif problem:
                await abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_INVALID,
                            "The Replay ID validation failed", rpc_id)
            return replay
        return log_.latest()


class SubscriptionStream:
    """One Subscribe call: flow control, keepalives, faults and token checks."""

    def __init__(self, org, topic: str, token: str, num_requested: int) -> None:
        self.org = org
        self.topic = topic
        self.token = token
        self.pending = max(0, min(num_requested, MAX_PENDING))
        self.waiter = asyncio.Event()
        self.failure: tuple | None = None
        self.ended = False
        self.last_request = asyncio.get_running_loop().time()
        self.reader: asyncio.Task | None = None
        org.bus.subscribe(topic, self.waiter)

    async def _read(self, request_iterator) -> None:
        try:
            async for req in request_iterator:
                if req is None:
                    self.failure = (grpc.StatusCode.INVALID_ARGUMENT, BAD_REQUEST,
                                    "The request could not be parsed")
                    self.waiter.set()
                    continue
                if req.topic_name and req.topic_name != self.topic:
                    self.failure = (grpc.StatusCode.INVALID_ARGUMENT, INVALID_REQUEST,
                                    "A FetchRequest may not change the topic of a subscription")
                if req.auth_refresh:
                    self.token = req.auth_refresh
                self.pending = max(0, min(self.pending + req.num_requested, MAX_PENDING))
                self.last_request = asyncio.get_running_loop().time()
                self.waiter.set()
        except (asyncio.CancelledError, grpc.RpcError):
            pass
        finally:
            self.ended = True
            self.waiter.set()

    async def run(self, request_iterator, position: int, rpc_id: str):
        loop = asyncio.get_running_loop()
        self.reader = asyncio.create_task(self._read(request_iterator))
        generation = self.org.bus.drop_generation
        profile = self.org.profile
        log_ = self.org.bus.log(self.topic)
        last_sent = loop.time()
        while True:
            self.waiter.clear()
            if self.failure:
                return
            if self.org.bus.drop_generation != generation:
                self.failure = (grpc.StatusCode.UNAVAILABLE, UNAVAILABLE,
                                "The service is unavailable: the stream was closed")
                return
            if self.org.sessions.validate(self.token) is None:
                self.failure = (grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                                "Authentication exception: the session expired or was revoked")
                return
            if self.pending > 0:
                events = log_.after(position, self.pending)
                if events:
                    self.pending -= len(events)
                    position = events[-1].replay
                    last_sent = loop.time()
                    yield pb.FetchResponse(
                        events=[pb.ConsumerEvent(
                            event=pb.ProducerEvent(id=e.event_id, schema_id=e.schema_id,
                                                   payload=e.payload),
                            replay_id=encode_replay_id(e.replay)) for e in events],
                        latest_replay_id=encode_replay_id(position), rpc_id=rpc_id,
                        pending_num_requested=self.pending)
                    continue
            if self.ended and self.pending == 0:
                return
            now = loop.time()
            if self.pending == 0 and now - self.last_request > profile.idle_stream_timeout_seconds:
                log.info("closing idle subscription on %s", self.topic)
                return
            wait = profile.keepalive_seconds - (now - last_sent)
            if wait <= 0:
                last_sent = now
                yield pb.FetchResponse(latest_replay_id=encode_replay_id(position),
                                       rpc_id=rpc_id, pending_num_requested=self.pending)
                continue
            if self.pending == 0:
                idle_left = profile.idle_stream_timeout_seconds - (now - self.last_request)
                wait = min(wait, max(idle_left, 0.01))
            try:
                await asyncio.wait_for(self.waiter.wait(), timeout=wait)
            except TimeoutError:
                pass

    def close(self) -> None:
        self.org.bus.unsubscribe(self.topic, self.waiter)
        if self.reader is not None:
            self.reader.cancel()
