"""Running the emulator: TLS material, HTTPS and gRPC servers, signals, state persistence."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from aiohttp import web

from .http_app import build_app
from .org_profile import OrgProfile
from .org_state import OrgState
from .pubsub_service import add_pubsub_service
from .seed_loader import load_seed
from .tls_material import ensure_tls_material

log = logging.getLogger(__name__)


@dataclass
class EmulatorConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    grpc_port: int = 7443
    seed_file: Path | None = None
    plain_http: bool = False
    profile_overrides: dict = field(default_factory=dict)


def _open_org(config: EmulatorConfig) -> OrgState:
    org, loaded = OrgState.load_or_create(config.data_dir, OrgProfile())
    if config.profile_overrides:
        org.profile.update(config.profile_overrides)
        org.rebuild_catalog()
    if config.seed_file and not loaded:
        with open(config.seed_file, encoding="utf-8") as fh:
            counts = load_seed(org, json.load(fh))
        log.info("seed %s loaded: %s", config.seed_file, counts)
    elif config.seed_file:
        log.info("state exists in %s: seed file not applied again", config.data_dir)
    return org


async def serve(config: EmulatorConfig, stop: asyncio.Event | None = None) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    org = _open_org(config)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    scheme = "http" if config.plain_http else "https"
    ssl_ctx = None
    grpc_server = grpc.aio.server(options=[("grpc.max_receive_message_length", 16 << 20)])
    add_pubsub_service(grpc_server, org)
    grpc_bind = f"{config.host}:{config.grpc_port}"
    if config.plain_http:
        grpc_port = grpc_server.add_insecure_port(grpc_bind)
    else:
        tls = ensure_tls_material(config.data_dir, (config.host,))
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(tls["server"], tls["server-key"])
        creds = grpc.ssl_server_credentials(
            [(tls["server-key"].read_bytes(), tls["server"].read_bytes())])
        grpc_port = grpc_server.add_secure_port(grpc_bind, creds)
    if not grpc_port:
        raise OSError(f"cannot bind gRPC port {grpc_bind}")
    endpoints: dict = {}
    app = build_app(org, config.data_dir, endpoints)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=ssl_ctx, backlog=512)
    await site.start()
    http_port = runner.addresses[0][1]
    await grpc_server.start()
    public_host = "localhost" if config.host in ("0.0.0.0", "::") else config.host
    endpoints.update({
        "instance_url": f"{scheme}://{public_host}:{http_port}",
        "grpc_target": f"{public_host}:{grpc_port}", "org_id": org.org_id,
        "ca_path": None if config.plain_http else str(config.data_dir / "ca.pem"),
        "http_port": http_port, "grpc_port": grpc_port, "pid": os.getpid(),
        "plain_http": config.plain_http,
    })
    endpoints_file = config.data_dir / "endpoints.json"
    tmp = endpoints_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(endpoints, indent=1))
    os.replace(tmp, endpoints_file)
    print(f"Salesforce emulator ready: org {org.org_id} instance {endpoints['instance_url']} "
          f"pubsub {endpoints['grpc_target']}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await grpc_server.stop(grace=0.5)
        await runner.cleanup()
        org.save(config.data_dir)
        endpoints_file.unlink(missing_ok=True)
        print("Salesforce emulator stopped; state saved", file=sys.stderr, flush=True)


def run(config: EmulatorConfig) -> None:
    asyncio.run(serve(config))
