"""Regenerate the Pub/Sub API stubs shipped in ``mlc_salesforce_emulator.proto``.

Run from ``contrib/salesforce-emulator`` after editing ``pubsub_api.proto``::

    python tools/generate_proto.py

Needs ``grpcio-tools`` (``pip install -e .[tools]``). The generated ``pubsub_api_pb2.py`` and
``pubsub_api_pb2_grpc.py`` are committed so that installing the emulator needs no code generation.

The message types are registered in a private descriptor pool, not protobuf's default pool, so
that a process which also loads another copy of ``eventbus.v1`` (a client's own stubs, for
example the hub's Salesforce plugin) does not fail with "duplicate symbol".
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

SRC = Path(__file__).resolve().parent.parent / "src"
PROTO = "mlc_salesforce_emulator/proto/pubsub_api.proto"
DEFAULT_POOL = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
PRIVATE_POOL = "DESCRIPTOR = _descriptor_pool.DescriptorPool().AddSerializedFile("


def main() -> int:
    args = [
        "grpc_tools.protoc",
        f"-I{SRC}",
        f"--python_out={SRC}",
        f"--pyi_out={SRC}",
        f"--grpc_python_out={SRC}",
        str(SRC / PROTO),
    ]
    status = protoc.main(args)
    if status:
        return status
    module = SRC / PROTO.replace(".proto", "_pb2.py")
    text = module.read_text()
    if DEFAULT_POOL not in text:
        print("unexpected generated code: descriptor pool line not found", file=sys.stderr)
        return 1
    module.write_text(text.replace(DEFAULT_POOL, PRIVATE_POOL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
