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


def changed_field_names(schema_json: dict, bitmaps: list[str]) -> set[str]:
    """Decode a changedFields/nulledFields bitmap into field names (top level only)."""
    names = [f["name"] for f in schema_json["fields"]]
    out = set()
    for item in bitmaps:
        if "-" in item:
            continue
        mask = int(item, 16)
        out |= {names[i] for i in range(len(names)) if mask >> i & 1}
    return out
