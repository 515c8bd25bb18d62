"""A careless plugin for the secrecy tests: it quotes its token in a checkpoint and a ping.

Loaded through ``[hub] plugin_modules = ["hubtest_leaky_plugin"]`` with this folder on the
path. The core must mask the token wherever it shows what the plugin wrote.
"""

from __future__ import annotations

from hub import Change, ChangeBatch, Check, Setting, Sink, Source, WriteResult, hookimpl

SETTINGS: dict = {}


class CursorSource(Source):
    """Two changes; the checkpoint is a cursor that (wrongly) embeds the token."""

    name = "leaky.cursor"
    system = "left"
    object_type = "Thing"

    def read(self, checkpoint):
        if checkpoint:
            return
        token = self.context.settings["token"]
        changes = [Change("L1", {"n": 1}), Change("L2", {"n": 2})]
        yield ChangeBatch(changes, checkpoint=f"cursor=42;auth={token};quote='\\{token}")


class AcceptingSink(Sink):
    name = "leaky.accept"
    system = "right"
    object_type = "Thing"
    batch_size = 10

    def write(self, items):
        return [WriteResult(target_id=f"T-{i.record.external_id}") for i in items]


@hookimpl
def hub_plugin_settings():
    return {"token": Setting(secret=True, required=True, help="the system's API token")}


@hookimpl
def hub_configure(settings):
    SETTINGS.clear()
    SETTINGS.update(settings)


@hookimpl
def hub_register_sources(registry):
    registry.add(CursorSource)


@hookimpl
def hub_register_sinks(registry):
    registry.add(AcceptingSink)


@hookimpl
def hub_ping(settings):
    return [Check("login", False, f"the server refused token {settings['token']}")]
