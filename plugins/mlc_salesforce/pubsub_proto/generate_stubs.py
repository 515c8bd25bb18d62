"""Regenerate the Pub/Sub API stubs of this package from ``pubsub_api.proto``.

Run from the repository root with grpcio-tools installed (``pip install grpcio-tools``)::

    python plugins/mlc_salesforce/pubsub_proto/generate_stubs.py

It runs ``grpc_tools.protoc`` with ``-I plugins`` so the generated ``pubsub_api_pb2_grpc.py``
imports ``mlc_salesforce.pubsub_proto.pubsub_api_pb2``, then moves the message types from
protobuf's default descriptor pool into a private one: a process that also holds another copy of
``eventbus.v1`` (the emulator's, a test client's) then loads both without a "duplicate symbol"
error. The generated files are committed, so installing the plugin needs no code generation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

PLUGINS = Path(__file__).resolve().parents[2]
PROTO = "mlc_salesforce/pubsub_proto/pubsub_api.proto"
DEFAULT_POOL = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
PRIVATE_POOL = "DESCRIPTOR = _descriptor_pool.DescriptorPool().AddSerializedFile("


def main() -> int:
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PLUGINS}",
            f"--python_out={PLUGINS}",
            f"--grpc_python_out={PLUGINS}",
            str(PLUGINS / PROTO),
        ]
    )
    if status:
        return status
    module = PLUGINS / PROTO.replace(".proto", "_pb2.py")
    text = module.read_text()
    if DEFAULT_POOL not in text:
        print("unexpected generated code: descriptor pool line not found", file=sys.stderr)
        return 1
    module.write_text(text.replace(DEFAULT_POOL, PRIVATE_POOL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
