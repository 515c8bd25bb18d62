"""``hub init``, ``hub plugins`` and ``hub ping``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from cryptography.fernet import Fernet

from ..examples import EXAMPLES, render
from ..plugins import PluginHost
from ..store import Store
from ..vault import KEY_ENV, write_key_file
from .common import EPILOG_CODES, EXIT_INCOMPLETE, State, emit_json, pass_state

EXAMPLE_CONFIG = """\
# ml-connector configuration. Reference: README.md, "Configuration reference".
# Secrets are never written here: write {{env = "VAR"}}, {{file = "PATH"}} or {{vault = "NAME"}}
# (store vault entries with `hub creds set NAME`).

[hub]
# Where the store (SQLite) and the vault key live.
data_dir = "{data_dir}"
# Scale-out store instead of SQLite:
# store = "postgresql://hub@127.0.0.1:5432/hub"
log_level = "INFO"
# log_file = "{data_dir}/hub.log"
workers = 4

# Plugins are enabled here; `hub plugins` lists what is installed.
[plugins.demo]
enabled = true

# [plugins.webhook-notify]          # example third-party plugin (contrib/webhook-notify)
# enabled = true
# url = "https://hooks.example.com/parked"
# token = {{vault = "webhook-token"}}

# A flow moves records from a source, through a matcher and a mapping, into a sink.
[flows.demo-orders]
source = "demo.generator"
matcher = "demo.customer_lookup"
mapping = "demo.order"
sink = "demo.directory"
poll_interval = 30      # seconds between source passes under `hub run`
max_attempts = 5        # then the record is parked

[flows.demo-orders.source_options]
count = 200
unknown_every = 50      # every 50th order names customer C9999: parked until it is known

[flows.demo-orders.sink_options]
path = "{data_dir}/demo-out"
"""


@click.command(epilog=EPILOG_CODES)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory to write into the config (default: ./hub-data beside it).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option(
    "--example",
    type=click.Choice(sorted(EXAMPLES)),
    help="Write this example instead of the demo plugin's: sapb1-salesforce is the three "
    "flows between SAP Business One and Salesforce.",
)
@pass_state
def init(state: State, data_dir: Path | None, force: bool, example: str | None) -> None:
    """Write a commented example config, a new vault key (mode 0600) and an empty store.

    The config goes to --config, $HUB_CONFIG, or ./hub.toml.
    """
    path = state.config_path or Path(os.environ.get("HUB_CONFIG") or "hub.toml")
    state.config_path = path
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    data_dir = (data_dir or path.parent / "hub-data").expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(example, str(data_dir)) if example else EXAMPLE_CONFIG.format(data_dir=data_dir)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = state.config()
    key_file = cfg.key_file
    if os.environ.get(KEY_ENV):
        click.echo(f"vault key: taken from {KEY_ENV}; no key file written")
    elif key_file.exists() and not force:
        click.echo(f"vault key: kept {key_file}")
    else:
        write_key_file(key_file, Fernet.generate_key())
        click.echo(f"vault key: wrote {key_file} (mode 0600); back it up, it cannot be recovered")
    store = Store(cfg.store_url)
    click.echo(f"store: {store.describe()} (schema version {store.schema_version()})")
    store.close()


@click.command(epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def plugins(state: State, as_json: bool) -> None:
    """List installed plugins: name, version, hooks and whether the config enables them."""
    hub = state.hub()
    cfg = hub.config
    enabled = set(cfg.enabled_plugins())
    rows = []
    for name, info in sorted(hub.discover().items()):
        probe = PluginHost()
        try:
            probe.load(info)
            hooks = info.hooks
        except Exception as exc:
            hooks, info.error = [], str(exc)
        rows.append(
            {
                "name": name,
                "version": info.version,
                "distribution": info.distribution,
                "module": info.module,
                "hooks": hooks,
                "enabled": name in enabled,
                "error": info.error,
            }
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no plugins installed")
    for r in rows:
        flag = "enabled " if r["enabled"] else "disabled"
        click.echo(f"{r['name']:<22} {r['version'] or '-':<10} {flag}  {r['distribution'] or ''}")
        if r["error"]:
            click.echo(f"    error: {r['error']}")
        else:
            click.echo(f"    hooks: {', '.join(r['hooks']) or '-'}")


@click.command(epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def ping(state: State, as_json: bool) -> None:
    """Ask each enabled plugin to check its own system; exit 4 when any check fails."""
    hub = state.hub(required=True)
    hub.load_plugins(flows=False)
    results = hub.host.ping(hub.settings, hub.flows_by_plugin())
    from ..mapping.ping import mapping_checks

    if mapping := mapping_checks(hub):
        results["mappings"] = mapping
    failed = 0
    rows = []
    for plugin, checks in sorted(results.items()):
        for c in checks:
            failed += not c.ok
            rows.append({"plugin": plugin, "check": c.name, "ok": c.ok, "detail": c.detail})
    if as_json:
        emit_json(rows)
    else:
        if not rows:
            click.echo("no enabled plugin has checks")
        for r in rows:
            mark = "PASS" if r["ok"] else "FAIL"
            click.echo(
                f"{mark}  {r['plugin']}: {r['check']}"
                + (f" - {r['detail']}" if r["detail"] else "")
            )
    if failed:
        raise SystemExit(EXIT_INCOMPLETE)


COMMANDS = [init, plugins, ping]
