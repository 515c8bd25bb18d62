"""``hub console``: accounts of the web console (passwords kept hashed in the vault)."""

from __future__ import annotations

import sys

import click

from ..web.accounts import MIN_PASSWORD, ROLES, STATE_OWNER, Accounts
from .common import EPILOG_CODES, EXIT_NOT_FOUND, State, pass_state


@click.group(epilog=EPILOG_CODES)
def console() -> None:
    """Accounts of the web console served by `hub run` at / (see [hub] listen)."""


def _accounts(state: State) -> Accounts:
    hub = state.hub(required=True)
    return Accounts(hub.plugin_state(STATE_OWNER))


@console.command("set-password", epilog=EPILOG_CODES)
@click.argument("user")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True,
              help="admin may replay records; viewer only reads.")  # fmt: skip
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the password from standard input (also when not a terminal).")  # fmt: skip
@pass_state
def set_password(state: State, user: str, role: str, from_stdin: bool) -> None:
    """Create USER or change its password and role; only a scrypt hash is kept."""
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.read().rstrip("\r\n")
    else:
        password = click.prompt(f"password for {user} (at least {MIN_PASSWORD} characters)",
                                hide_input=True, confirmation_prompt=True)  # fmt: skip
    _accounts(state).set(user, password, role)  # ConfigError (exit 3) names what is wrong
    click.echo(f"console user {user} ({role}) saved")


@console.command("users", epilog=EPILOG_CODES)
@pass_state
def users(state: State) -> None:
    """List console user names."""
    for name in _accounts(state).names():
        click.echo(name)


@console.command("delete-user", epilog=EPILOG_CODES)
@click.argument("user")
@pass_state
def delete_user(state: State, user: str) -> None:
    """Remove USER; its open sessions end when `hub run` restarts."""
    if not _accounts(state).delete(user):
        click.echo(f"no console user {user!r}", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    click.echo(f"console user {user} deleted")


@console.command("admin-token", epilog=EPILOG_CODES)
@click.option("--revoke", is_flag=True, help="Remove the admin token; nothing replaces it.")
@pass_state
def admin_token(state: State, revoke: bool) -> None:
    """Make a new admin token for the console sign-in page (replacing any earlier one) and show
    it once; only its scrypt hash is kept in the vault. It opens an admin session."""
    accounts = _accounts(state)
    if revoke:
        if not accounts.revoke_admin_token():
            click.echo("no admin token to revoke", err=True)
            raise SystemExit(EXIT_NOT_FOUND)
        click.echo("admin token revoked")
        return
    replaced = accounts.has_admin_token()
    token = accounts.new_admin_token()
    click.echo(token)
    note = "; the earlier token no longer works" if replaced else ""
    click.echo(f"admin token saved (shown once, keep it like a password){note}", err=True)


COMMANDS = [console]
