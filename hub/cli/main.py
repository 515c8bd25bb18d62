"""The ``hub`` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from .. import __version__
from ..config import LOG_LEVELS
from ..errors import ConfigError, HubError, StoreError
from ..plugins import PluginHost, discover
from ..secrets import redact_text
from . import common
from .common import State

log = logging.getLogger("hub")

EPILOG = common.EPILOG_CODES


class HubGroup(click.Group):
    """The top-level group: maps hub errors to exit codes and adds plugins' commands lazily."""

    _plugin_commands_loaded = False
    _config_error: ConfigError | None = None

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        state = ctx.find_object(State)
        if state is None:  # resolving a command happens before the group's callback runs
            state = ctx.obj = State(ctx.params.get("config_path"), ctx.params.get("log_level"))
        try:
            cfg = state.config()
            disabled = set(cfg.disabled_plugins())
            modules = cfg.hub.get("plugin_modules") or []
        except ConfigError as exc:
            self._config_error = exc  # reported when a command needs the config
            return
        host = PluginHost()
        for name, info in discover(modules).items():
            if name in disabled:
                continue
            try:
                host.load(info)
            except ConfigError as exc:
                log.warning("%s", exc)
        host.add_commands(self)
        emulate = self.commands.get("emulate")
        if isinstance(emulate, click.Group):
            for cmd in host.emulator_commands():
                emulate.add_command(cmd)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is None or name == "emulate":
            self._load_plugin_commands(ctx)
            cmd = super().get_command(ctx, name)
        if cmd is None and self._config_error is not None:
            # a plugin's command may be missing only because the config is bad: say so
            click.echo(f"error: {redact_text(str(self._config_error))}", err=True)
            ctx.exit(common.EXIT_CONFIG)
        return cmd

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {redact_text(str(exc))}", err=True)
            ctx.exit(common.EXIT_CONFIG)
        except StoreError as exc:
            click.echo(f"error: {redact_text(str(exc))}", err=True)
            ctx.exit(common.EXIT_STORE)
        except HubError as exc:
            click.echo(f"error: {redact_text(str(exc))}", err=True)
            ctx.exit(common.EXIT_FAILURE)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # never a raw traceback: it would bypass secret masking
            log.debug("unexpected error", exc_info=True)
            click.echo(
                f"error: unexpected {type(exc).__name__}: {redact_text(str(exc))} "
                "(--log-level DEBUG shows the traceback)",
                err=True,
            )
            ctx.exit(common.EXIT_FAILURE)
        finally:
            state = ctx.find_object(State)
            if state:
                state.close()


@click.group(cls=HubGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HUB_CONFIG",
    help="Configuration file (default: $HUB_CONFIG, ./hub.toml, ~/.config/ml-connector/hub.toml).",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    envvar="HUB_LOG_LEVEL",
    help="Override [hub] log_level.",
)
@click.version_option(__version__, prog_name="hub")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, log_level: str | None) -> None:
    """ml-connector: keep SAP Business One and Salesforce aligned.

    Run `hub init` to write a config and a vault key, `hub plugins` to see what is installed,
    `hub sync FLOW` for one pass and `hub run` to keep every enabled flow running.
    """
    if not isinstance(ctx.obj, State):
        ctx.obj = State(config_path, log_level)


class EmulateGroup(click.Group):
    """``hub emulate``: its commands come from plugins, so a bad config can hide them."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        error = getattr(ctx.find_root().command, "_config_error", None)
        if cmd is None and error is not None:
            click.echo(f"error: {redact_text(str(error))}", err=True)
            ctx.exit(common.EXIT_CONFIG)
        return cmd


@cli.group(cls=EmulateGroup, epilog=EPILOG)
def emulate() -> None:
    """Run a local emulator of a system (commands come from installed emulator plugins)."""


def _register() -> None:
    from . import console, creds, demo, flows, inspect, reconcile, setup

    for mod in (setup, creds, flows, inspect, demo, console, reconcile):
        for cmd in mod.COMMANDS:
            cli.add_command(cmd)


_register()


def main() -> None:
    try:
        cli.main(prog_name="hub")
    except KeyboardInterrupt:  # pragma: no cover - a signal outside the engine's handlers
        sys.exit(common.EXIT_INTERRUPTED)
