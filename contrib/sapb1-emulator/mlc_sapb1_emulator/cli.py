"""``sapb1``: run the SAP Business One Service Layer emulator."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .emulator import Emulator
# the server and its seed code are imported when the command runs: `hub --help`, which lists
# this command through the emulator's plugin, stays fast

try:  # a faster event loop where available
    import uvloop
except ImportError:  # pragma: no cover - platforms without uvloop
    uvloop = None

log = logging.getLogger("mlc_sapb1_emulator")


@click.command("sapb1")
@click.option("--port", type=int, default=50000, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="CA, saved state and other files live here.")
@click.option("--seed", "seed_name", default=None, metavar="FILE|NAME",
              help="JSON or TOML seed file, or a bundled seed ('demo': the user fields the "
                   "connector uses), applied when there is no saved state.")
@click.option("--generate", "generate_spec", default=None,
              help="e.g. business_partners=100000,items=500,orders=100,invoices=50,payments=20")
@click.option("--company", default=None, help="CompanyDB accepted at login [SBODEMOUS].")
@click.option("--user", default=None, help="UserName accepted at login [manager].")
@click.option("--password", default=None, help="Password accepted at login [manager].")
@click.option("--plain-http", is_flag=True, help="Serve HTTP instead of HTTPS (debugging).")
@click.option("--fresh", is_flag=True, help="Ignore the state saved by a previous run.")
@click.option("--session-timeout", type=int, default=30, show_default=True,
              help="SessionTimeout in minutes, as reported at login.")
@click.option("--session-timeout-seconds", type=float, default=None,
              help="Idle timeout in seconds (overrides the minutes; for tests).")
@click.option("--login-delay", type=float, default=0.0, show_default=True,
              help="Seconds each login takes (a real server's cold start).")
@click.option("--page-size", type=int, default=20, show_default=True)
@click.option("--max-body-bytes", type=int, default=10 * 1024 * 1024, show_default=True)
@click.option("--webhook-retry-scale", type=float, default=1.0, show_default=True,
              help="Multiplies the webhook retry delays 2,4,8,16,32 s.")
@click.option("--webhook-ca-bundle", type=click.Path(exists=True, dir_okay=False),
              default=None, help="CA bundle to verify webhook receivers.")
@click.option("--port-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the port actually bound here once listening (with --port 0).")
@click.option("--log-level", default="INFO", show_default=True)
def sapb1(port, host, data_dir, seed_name, generate_spec, company, user, password, plain_http,
          fresh, session_timeout, session_timeout_seconds, login_delay, page_size,
          max_body_bytes, webhook_retry_scale, webhook_ca_bundle, port_file, log_level):
    """Run a local SAP Business One Service Layer (v2) emulator."""
    from .emulator import Emulator
    from .errors import ServiceLayerError
    from .seed import apply_seed, generate, parse_generate, read_seed_file, resolve_seed
    from .tls import server_context

    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        counts = parse_generate(generate_spec) if generate_spec else {}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--generate") from None
    try:
        seed_file = resolve_seed(seed_name) if seed_name else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--seed") from None
    settings = {"page_size": page_size, "login_delay": login_delay,
                "max_body_bytes": max_body_bytes, "webhook_retry_scale": webhook_retry_scale,
                "webhook_ca_bundle": webhook_ca_bundle}
    emu = Emulator(data_dir, settings, session_timeout, session_timeout_seconds)
    loaded = False if fresh else emu.load()
    seed = read_seed_file(seed_file) if seed_file else {}
    for name, key in (("company", "CompanyDB"), ("user", "UserName"), ("password", "Password")):
        if key in seed.get("company", {}):
            emu.settings[name] = seed["company"][key]
    for name, value in (("company", company), ("user", user), ("password", password)):
        if value is not None:
            emu.settings[name] = value
    if loaded and (seed_file or counts):
        log.info("saved state found: --seed and --generate are ignored (use --fresh)")
    elif seed_file or counts:
        try:
            if seed_file:
                apply_seed(emu.writer, {k: v for k, v in seed.items() if k != "company"})
            generate(emu.writer, counts)
        except (ServiceLayerError, ValueError) as exc:
            raise click.ClickException(f"seeding failed: {exc}") from None
    data_dir.mkdir(parents=True, exist_ok=True)
    ssl_ctx = None if plain_http else server_context(data_dir, host)
    if uvloop is not None:
        uvloop.run(_serve(emu, host, port, ssl_ctx, port_file))
    else:
        asyncio.run(_serve(emu, host, port, ssl_ctx, port_file))


async def _serve(emu: Emulator, host: str, port: int, ssl_ctx, port_file: Path | None) -> None:
    from aiohttp import web

    from .app import make_app
    from .tls import CA_FILE

    # long $filter expressions make long request lines: allow up to 64 KiB
    runner = web.AppRunner(make_app(emu), access_log=None, handle_signals=False,
                           max_line_size=65536, max_field_size=16384)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_ctx, backlog=1024)
    await site.start()
    actual = runner.addresses[0][1]
    scheme = "https" if ssl_ctx else "http"
    where = f"{scheme}://{host}:{actual}/b1s/v2/"
    ca = f" (CA: {emu.data_dir / CA_FILE})" if ssl_ctx else ""
    click.echo(f"SAP B1 Service Layer emulator listening on {where}{ca}", err=False)
    sys.stdout.flush()
    if port_file is not None:
        tmp = port_file.with_name(port_file.name + ".tmp")
        tmp.write_text(str(actual))
        tmp.replace(port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await emu.webhooks.close()
    await runner.cleanup()
    emu.save()
