"""``hub init``, ``hub plugins`` and ``hub ping``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from cryptography.fernet import Fernet

from ..config import HubConfig
from ..errors import ConfigError
from ..examples import EXAMPLES, render
from ..paths import path_problem
from ..plugins import PluginHost
from ..secrets import redact_text
from ..store import Store
from ..vault import KEY_ENV, Vault, env_keys, write_key_file
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
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing config file with the example. Only the config file: an "
    "existing vault key and the store are kept.",
)
@click.option(
    "--new-key",
    is_flag=True,
    help="Replace the vault key file with a new key. Refused while the store holds "
    "credentials (they would become unreadable): change the key of a vault in use with "
    "`hub creds rotate-key`.",
)
@click.option(
    "--example",
    type=click.Choice(sorted(EXAMPLES)),
    help="Write this example instead of the demo plugin's: sapb1-salesforce is the three "
    "flows between SAP Business One and Salesforce.",
)
@pass_state
def init(
    state: State, data_dir: Path | None, force: bool, new_key: bool, example: str | None
) -> None:
    """Write a commented example config, a vault key (mode 0600) and an empty store.

    The config goes to --config, $HUB_CONFIG, or ./hub.toml. An existing config is
    overwritten only with --force. An existing vault key is never overwritten: it encrypts
    the stored credentials (--new-key replaces it only while the vault is empty). The store
    is created if missing and never emptied.
    """
    path = state.config_path or Path(os.environ.get("HUB_CONFIG") or "hub.toml")
    state.config_path = path
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    data_what = "--data-dir" if data_dir else "the data directory"
    data_dir = (data_dir or path.parent / "hub-data").expanduser().resolve()
    env = env_keys()  # a malformed HUB_SECRET_KEY is reported before anything is written
    if env is not None and new_key:
        raise click.UsageError(f"the key comes from {KEY_ENV}: --new-key writes no key file")
    for what, target, directory in ((data_what, data_dir, True), ("the config", path, False)):
        problem = path_problem(target, directory=directory, writable=True)
        if problem:
            raise ConfigError(f"{what}: {problem}")
    planned = HubConfig(path=path, exists=True, hub={"data_dir": str(data_dir)})
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{data_what}: cannot create {data_dir}: {exc.strerror}") from None
    store = Store(planned.store_url)
    try:
        vault = Vault(store, planned.key_file)
        write_key = env is None and _key_decision(vault, new_key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = (
                render(example, str(data_dir))
                if example
                else EXAMPLE_CONFIG.format(data_dir=data_dir)
            )
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write the config {path}: {exc.strerror}") from None
        click.echo(f"wrote {path}")
        if env is not None:
            click.echo(f"vault key: taken from {KEY_ENV}; no key file written")
        elif write_key:
            vault.next_key_file.unlink(missing_ok=True)  # the vault is empty: nothing pending
            write_key_file(vault.key_file, Fernet.generate_key())
            click.echo(
                f"vault key: wrote {vault.key_file} (mode 0600); back it up, it cannot be recovered"
            )
        else:
            click.echo(f"vault key: kept {vault.key_file}")
        click.echo(f"store: {store.describe()} (schema version {store.schema_version()})")
    finally:
        store.close()
    state.config()


def _key_decision(vault: Vault, new_key: bool) -> bool:
    """Whether to write a new key file; refuses whenever that would orphan credentials."""
    key_file = vault.key_file
    has_key = key_file.exists() or key_file.is_symlink()
    if has_key and not new_key:
        return False
    count = vault.count()
    if count and has_key:
        raise ConfigError(
            f"--new-key refused: the vault in {vault.store.describe()} holds {count} "
            f"credential(s) encrypted with {key_file}; a new key would make them unreadable. "
            "Change the key with `hub creds rotate-key`, or delete them first "
            "(`hub creds delete NAME`)."
        )
    if count and not new_key:
        raise ConfigError(
            f"{key_file} does not exist but the vault in {vault.store.describe()} holds "
            f"{count} credential(s) encrypted with a key: restore the key file from its "
            f"backup or set {KEY_ENV}; `hub init --new-key` starts a new key instead and "
            "leaves them unreadable until they are set again"
        )
    return True


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
            click.echo(f"    error: {redact_text(r['error'])}")
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
            line = f"{mark}  {r['plugin']}: {r['check']}"
            click.echo(redact_text(line + (f" - {r['detail']}" if r["detail"] else "")))
    if failed:
        raise SystemExit(EXIT_INCOMPLETE)


COMMANDS = [init, plugins, ping]
