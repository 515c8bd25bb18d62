"""``hub creds``: the credential vault."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..vault import KEY_ENV, env_keys
from .common import EPILOG_CODES, EXIT_NOT_FOUND, State, emit_json, fmt_time, pass_state


@click.group(epilog=EPILOG_CODES)
def creds() -> None:
    """Store credentials encrypted in the vault; refer to them as {vault = "NAME"}."""


@creds.command("set", epilog=EPILOG_CODES)
@click.argument("name")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the secret from standard input (also the default when it is not a terminal).",
)
@pass_state
def set_(state: State, name: str, from_stdin: bool) -> None:
    """Store the secret NAME; prompts without echo, or reads standard input."""
    if from_stdin or not sys.stdin.isatty():
        value = sys.stdin.read().rstrip("\r\n")
    else:
        value = click.prompt(f"secret for {name}", hide_input=True, confirmation_prompt=True)
    state.hub().vault.set(name, value)  # refuses bad names and empty or too short secrets
    click.echo(f"stored {name}")


@creds.command("list", epilog=EPILOG_CODES)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def list_(state: State, as_json: bool) -> None:
    """List credential names and dates (never values)."""
    entries = state.hub().vault.list()
    if as_json:
        emit_json(
            [
                {
                    "name": e.name,
                    "created": fmt_time(e.created_at),
                    "updated": fmt_time(e.updated_at),
                }
                for e in entries
            ]
        )
        return
    if not entries:
        click.echo("the vault is empty")
    for e in entries:
        click.echo(
            f"{e.name:<30} created {fmt_time(e.created_at)}  updated {fmt_time(e.updated_at)}"
        )


@creds.command(epilog=EPILOG_CODES)
@click.argument("name")
@pass_state
def delete(state: State, name: str) -> None:
    """Delete the credential NAME (exit 6 when there is none)."""
    if not state.hub().vault.delete(name):
        click.echo(f"no credential named {name!r}", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    click.echo(f"deleted {name}")


@creds.command("rotate-key", epilog=EPILOG_CODES)
@click.option(
    "--write-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"With {KEY_ENV}: file (mode 0600) to receive the new key. If it already holds "
    "a key from an interrupted rotation, that rotation is resumed with it.",
)
@pass_state
def rotate_key(state: State, write_key: Path | None) -> None:
    """Re-encrypt every credential under a new key.

    The new key is saved first (vault.key.next beside the key file, or the --write-key file
    with HUB_SECRET_KEY); then every entry is re-encrypted and checked; only then does the new
    key replace the old one. Interrupted at any point, nothing is lost: both keys keep
    working, and the next rotate-key resumes with the saved key instead of making another.
    With HUB_SECRET_KEY, put the new key first in HUB_SECRET_KEY afterwards (keys may be
    comma-separated: the first encrypts, all decrypt).
    """
    vault = state.hub().vault
    if env_keys() is not None and not write_key:
        raise click.UsageError(
            f"the key comes from {KEY_ENV}: pass --write-key FILE for the new key"
        )
    pending = vault.pending_key_file(write_key)
    if pending.exists():
        click.echo(f"resuming the interrupted rotation with the key in {pending}")
    count, _ = vault.rotate(write_key=write_key)
    if write_key:
        click.echo(
            f"re-encrypted {count} credential(s); new key written to {write_key}: "
            f"put it first in {KEY_ENV}"
        )
    else:
        click.echo(f"re-encrypted {count} credential(s); {vault.key_file} now holds the new key")


COMMANDS = [creds]
