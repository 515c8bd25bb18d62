"""Helpers for the operations tests: a hub with the ops test plugin, a running listener."""

from __future__ import annotations

import contextlib

from hub.engine import Engine
from hub.listener import HubListener
from hub.ops.routes import core_routes


def write_ops_config(hubenv, *, script=None, hub_extra="", flow=None, plugin=None):
    hubenv.write_config(
        flow={"sink_options": {"script": script or {}}, **(flow or {})},
        plugin=plugin,
        hub_extra=hub_extra,
    )
    text = hubenv.config.read_text().replace(
        'plugin_modules = ["hubtest_plugin"]',
        'plugin_modules = ["hubtest_plugin", "hubtest_ops_plugin"]',
    )
    hubenv.config.write_text(text + "[plugins.hubtest_ops_plugin]\nenabled = true\n")


@contextlib.contextmanager
def serving(hub, engine):
    """The core's routes of ``hub run`` on a free loopback port."""
    routes, on_response = core_routes(hub, engine)
    listener = HubListener("127.0.0.1:0", routes)
    listener.on_response = on_response
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


OPENED: list = []  # hubs the tests opened, closed by close_hubs()


def close_hubs() -> None:
    """Stop what the tests' engines left running (their store heartbeat threads, each holding a
    connection of its own) and close the stores."""
    while OPENED:
        hub = OPENED.pop()
        hub.stopping.set()
        hub.close()


def synced_engine(hubenv, flows=("things",)):
    hub = hubenv.load_hub()
    OPENED.append(hub)
    engine = Engine(hub, list(flows))
    engine.sync_once()
    return hub, engine


ADMIN_PASSWORD = "correct horse battery"
VIEWER_PASSWORD = "viewer only, no replay"


def console_accounts(hub):
    """An admin and a viewer account in the hub's vault."""
    from hub.web.accounts import STATE_OWNER, Accounts

    accounts = Accounts(hub.plugin_state(STATE_OWNER))
    accounts.set("ada", ADMIN_PASSWORD, "admin")
    accounts.set("vic", VIEWER_PASSWORD, "viewer")
    return accounts


def vault_key(hubenv):
    from cryptography.fernet import Fernet

    from hub.vault import write_key_file

    hubenv.data.mkdir(parents=True, exist_ok=True)
    write_key_file(hubenv.data / "vault.key", Fernet.generate_key())


def sign_in(client, base: str, user: str, password: str):
    import re

    page = client.get(base + "/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post(base + "/login", data={"user": user, "password": password, "csrf": token})


def csrf_of(html: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
