"""A Pub/Sub API subscriber built only from the public ``pubsub_api.proto``.

The stubs are generated at test time from the proto text with grpcio-tools into a temporary
directory, so the tests never share code with the emulator's own generated modules.
"""

from __future__ import annotations

import importlib
import io
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import fastavro
import grpc

PROTO = (Path(__file__).resolve().parent.parent
         / "src/mlc_salesforce_emulator/proto/pubsub_api.proto")


def load_stubs(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pubsub_api.proto").write_text(PROTO.read_text())
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{out_dir}",
                    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                    str(out_dir / "pubsub_api.proto")], check=True)
    sys.path.insert(0, str(out_dir))
    try:
        return importlib.import_module("pubsub_api_pb2"), importlib.import_module(
            "pubsub_api_pb2_grpc")
    finally:
        sys.path.remove(str(out_dir))


class Subscription:
    """One Subscribe stream: send FetchRequests, read FetchResponses with deadlines."""

    def __init__(self, client, topic: str, preset: int, replay_id: bytes = b"",
                 num_requested: int = 100, timeout: float = 30.0) -> None:
        self.pb = client.pb
        self.topic = topic
        self.requests: queue.Queue = queue.Queue()
        self.requests.put(self.pb.FetchRequest(topic_name=topic, replay_preset=preset,
                                               replay_id=replay_id, num_requested=num_requested))
        self.responses: queue.Queue = queue.Queue()
        self.call = client.stub.Subscribe(self._requests(), metadata=client.metadata,
                                          timeout=timeout)
        self.error: grpc.RpcError | None = None
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _requests(self):
        while True:
            item = self.requests.get()
            if item is None:
                return
            yield item

    def _pump(self) -> None:
        try:
            for resp in self.call:
                self.responses.put(resp)
        except grpc.RpcError as exc:
            self.error = exc
        finally:
            self.responses.put(None)

    def request(self, n: int, **extra) -> None:
        self.requests.put(self.pb.FetchRequest(num_requested=n, **extra))

    def next_response(self, timeout: float = 10.0):
        """The next FetchResponse, or None once the stream has ended."""
        return self.responses.get(timeout=timeout)

    def events(self, count: int, timeout: float = 10.0) -> list:
        """Collect ``count`` ConsumerEvents (skipping keepalives)."""
        got: list = []
        while len(got) < count:
            resp = self.next_response(timeout)
            if resp is None:
                raise AssertionError(f"stream ended after {len(got)} events: {self.error}")
            got.extend(resp.events)
        return got

    def wait_end(self, timeout: float = 10.0) -> grpc.RpcError | None:
        while True:
            if self.responses.get(timeout=timeout) is None:
                return self.error

    def close(self) -> None:
        self.call.cancel()
        self.requests.put(None)


class PubSubClient:
    def __init__(self, pb, pb_grpc, emulator, token: str | None = None) -> None:
        self.pb = pb
        creds = grpc.ssl_channel_credentials(Path(emulator.ca_path).read_bytes())
        self.channel = grpc.secure_channel(emulator.grpc_target, creds)
        self.stub = pb_grpc.PubSubStub(self.channel)
        self.token = token or emulator.access_token()
        self.metadata = (("accesstoken", self.token), ("instanceurl", emulator.instance_url),
                         ("tenantid", emulator.org_id))
        self.schemas: dict[str, object] = {}

    def schema(self, schema_id: str):
        if schema_id not in self.schemas:
            info = self.stub.GetSchema(self.pb.SchemaRequest(schema_id=schema_id),
                                       metadata=self.metadata, timeout=10)
            self.schemas[schema_id] = fastavro.parse_schema(json.loads(info.schema_json))
        return self.schemas[schema_id]

    def decode(self, consumer_event) -> dict:
        event = consumer_event.event
        return fastavro.schemaless_reader(io.BytesIO(event.payload), self.schema(event.schema_id),
                                          None)

    def subscribe(self, topic: str, preset: str = "LATEST", replay_id: bytes = b"",
                  num_requested: int = 100) -> Subscription:
        return Subscription(self, topic, getattr(self.pb, preset), replay_id, num_requested)

    def close(self) -> None:
        self.channel.close()


def trailer(error: grpc.RpcError, key: str = "error-code") -> str | None:
    for k, v in error.trailing_metadata() or ():
        if k == key:
            return v
    return None


def _bits(hex_text: str) -> list[int]:
    """Set bit positions of a bitmap, read as Salesforce's sample decoders read it: the hex
    digits in pairs (an odd count is an error there, so it is here), bytes most significant
    first, bit i counted from the least significant bit of the last byte."""
    digits = hex_text[2:] if hex_text.startswith("0x") else hex_text
    if len(digits) % 2:
        raise ValueError(f"bitmap {hex_text!r} is not whole bytes")
    raw = bytes(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))
    value = int.from_bytes(raw, "big")
    return [i for i in range(len(raw) * 8) if value >> i & 1]


def _record_fields(field_type) -> list[dict] | None:
    for t in field_type if isinstance(field_type, list) else [field_type]:
        if isinstance(t, dict) and t.get("type") == "record":
            return t["fields"]
    return None


def changed_field_names(schema_json: dict, bitmaps: list[str], named: dict | None = None):
    """Expand changedFields/nulledFields into names: top-level fields from element 0,
    ``Parent.Sub`` from ``"<parentPos>-0x.."`` elements (``Parent`` when every sub-field is set).
    ``named`` maps record names to their fields, for records referred to by name."""
    fields = schema_json["fields"]
    named = dict(named or {})
    for f in fields:
        sub = _record_fields(f["type"])
        if sub is not None:
            for t in f["type"]:
                if isinstance(t, dict):
                    named[t["name"]] = sub
    out = set()
    for item in bitmaps:
        if item.startswith("0x"):
            out |= {fields[i]["name"] for i in _bits(item)}
            continue
        pos, _, hex_text = item.partition("-")
        parent = fields[int(pos)]
        sub = _record_fields(parent["type"]) or next(
            named[t] for t in parent["type"] if isinstance(t, str) and t in named)
        names = {sub[i]["name"] for i in _bits(hex_text)}
        out |= {parent["name"]} if len(names) == len(sub) else {
            f"{parent['name']}.{n}" for n in names}
    return out
