"""Finding, loading and calling plugins: a small typed wrapper around pluggy's PluginManager.

Plugins are installed distributions that expose a module in the ``ml_connector.plugins``
entry-point group (the built-in ones register the same way), or local modules listed in
``[hub] plugin_modules``. Nothing is imported until the hub needs it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .components import Check, Component, Mapping, Matcher, Record, Sink, Source
from .errors import ConfigError
from .ops.alerts import AlertedWarning
from .secrets import redact_text
from .settings import Schema

ENTRY_POINT_GROUP = "ml_connector.plugins"
log = logging.getLogger(__name__)


@dataclass
class PluginInfo:
    """An installed (or locally listed) plugin, before or after loading."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    entry_point: metadata.EntryPoint | None = None
    hooks: list[str] = field(default_factory=list)
    enabled: bool = False
    error: str | None = None


class Registry:
    """What a registry hook receives: ``registry.add(cls)`` contributes a class."""

    def __init__(self, kind: type[Component], plugin: str, into: dict[str, tuple[str, type]]):
        self._kind = kind
        self._plugin = plugin
        self._into = into

    def add(self, cls: type[Component]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, self._kind)):
            raise ConfigError(
                f"plugin {self._plugin!r} registered {cls!r}, which is not a "
                f"hub.{self._kind.__name__} subclass"
            )
        if not cls.name:
            raise ConfigError(f"plugin {self._plugin!r}: {cls.__name__} has no `name`")
        if cls.name in self._into and self._into[cls.name][1] is not cls:
            other = self._into[cls.name][0]
            raise ConfigError(
                f"{self._kind.__name__.lower()} name {cls.name!r} is registered by both "
                f"{other!r} and {self._plugin!r}"
            )
        self._into[cls.name] = (self._plugin, cls)


@dataclass
class Components:
    """Every contributed class by name, with the plugin that contributed it."""

    sources: dict[str, tuple[str, type[Source]]] = field(default_factory=dict)
    sinks: dict[str, tuple[str, type[Sink]]] = field(default_factory=dict)
    matchers: dict[str, tuple[str, type[Matcher]]] = field(default_factory=dict)
    mappings: dict[str, tuple[str, type[Mapping]]] = field(default_factory=dict)


def discover(plugin_modules: Iterable[str] = ()) -> dict[str, PluginInfo]:
    """Installed plugins by name, read from entry-point metadata only (nothing imported)."""
    found: dict[str, PluginInfo] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if ep.name in found:
            log.warning(
                "plugin name %r is installed twice; using %s", ep.name, found[ep.name].module
            )
            continue
        found[ep.name] = PluginInfo(
            name=ep.name,
            module=ep.value,
            distribution=dist.metadata["Name"] if dist else None,
            version=dist.version if dist else None,
            entry_point=ep,
        )
    for module in plugin_modules:
        found.setdefault(module, PluginInfo(name=module, module=module, distribution="(local)"))
    return found


WARNING_MAX_CHARS = 1000
"""A plugin's status warning is cut to this many characters (an alert subject, a status line)."""


def _bounded_warning(note: Any) -> str:
    """``note`` as a masked line of at most :data:`WARNING_MAX_CHARS` (masked before it is
    cut, so a cut never leaves part of a secret), keeping an :class:`AlertedWarning`'s kind."""
    text = redact_text(str(note))
    if len(text) > WARNING_MAX_CHARS:
        text = f"{text[:WARNING_MAX_CHARS]}... ({len(text)} characters)"
    return AlertedWarning(text, note.alert_kind) if isinstance(note, AlertedWarning) else text


class PluginHost:
    """The loaded plugins and typed calls to their hooks."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}

    # -- loading -----------------------------------------------------------------------------
    def load(self, info: PluginInfo) -> None:
        """Import and register one plugin; a hook no spec declares fails loudly."""
        try:
            obj = (
                info.entry_point.load()
                if info.entry_point
                else importlib.import_module(info.module)
            )
        except Exception as exc:
            raise ConfigError(
                f"plugin {info.name!r} ({info.module}) failed to load: {exc}"
            ) from exc
        self.register(obj, info)

    def register(self, obj: Any, info: PluginInfo) -> None:
        """Register an already imported plugin object (a module or an instance)."""
        self.pm.register(obj, name=info.name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=info.name)
            raise ConfigError(
                f"plugin {info.name!r} implements a hook no spec declares: {exc}"
            ) from exc
        info.hooks = sorted(
            h.name for h in self.pm.get_hookcallers(obj) or [] if h.name.startswith("hub_")
        )
        info.enabled = True
        self.plugins[info.name] = info

    def _impls(self, hook_name: str):
        caller = getattr(self.pm.hook, hook_name)
        return [(impl.plugin_name, impl.function) for impl in caller.get_hookimpls()]

    # -- per-plugin calls --------------------------------------------------------------------
    def settings_schemas(self) -> dict[str, Schema]:
        return {name: dict(fn() or {}) for name, fn in self._impls("hub_plugin_settings")}

    def configure(self, settings_by_plugin: dict[str, dict[str, Any]]) -> None:
        for name, fn in self._impls("hub_configure"):
            fn(settings=settings_by_plugin.get(name, {}))

    def components(self) -> Components:
        out = Components()
        for hook, kind, into in (
            ("hub_register_sources", Source, out.sources),
            ("hub_register_sinks", Sink, out.sinks),
            ("hub_register_matchers", Matcher, out.matchers),
            ("hub_register_mappings", Mapping, out.mappings),
        ):
            for plugin, fn in self._impls(hook):
                try:
                    fn(registry=Registry(kind, plugin, into))
                except ConfigError:
                    raise
                except Exception as exc:  # e.g. a component module it imports only here
                    raise ConfigError(
                        f"plugin {plugin!r} failed to register its {kind.__name__.lower()}s "
                        f"({hook}): {type(exc).__name__}: {exc}"
                    ) from exc
        return out

    def with_builtins(self, comps: Components) -> Components:
        """``comps`` plus the components shipped with the core, usable by every flow:
        ``hub.declarative`` (a mapping) and ``hub.all_of`` (a matcher of matchers)."""
        from .mapping import DeclarativeMapping
        from .matching import AllOfMatcher

        Registry(Mapping, "hub", comps.mappings).add(DeclarativeMapping)
        Registry(Matcher, "hub", comps.matchers).add(AllOfMatcher)
        return comps

    def ping(
        self,
        settings_by_plugin: dict[str, dict[str, Any]],
        flows_by_plugin: dict[str, list[dict[str, Any]]] | None = None,
    ) -> dict[str, list[Check]]:
        """``flows_by_plugin``: per plugin, the enabled flows using its components (none
        without it)."""
        results: dict[str, list[Check]] = {}
        for impl in self.pm.hook.hub_ping.get_hookimpls():
            plugin, fn = impl.plugin_name, impl.function
            kwargs: dict[str, Any] = {"settings": settings_by_plugin.get(plugin, {})}
            if "flows" in impl.argnames:
                kwargs["flows"] = (flows_by_plugin or {}).get(plugin, [])
            try:
                results[plugin] = list(fn(**kwargs) or [])
            except Exception as exc:  # a plugin's bug is a failed check, not a crash
                results[plugin] = [Check("ping", False, f"{type(exc).__name__}: {exc}")]
        return results

    def routes(self, state_of: Any) -> list[Any]:
        """Routes the plugins add for the HTTP listener; ``state_of(plugin)`` gives each plugin
        its own state."""
        from .listener import Router

        found: list[Any] = []
        for plugin, fn in self._impls("hub_register_routes"):
            fn(router=Router(plugin, state_of(plugin), found))
        return found

    def status_warnings(self, settings_by_plugin: dict[str, dict[str, Any]], state_of: Any):
        """``(plugin, warning)`` pairs for ``hub status``; a failing plugin is logged.

        A plugin answering one string gives one warning (not one per character); anything but
        a list of strings (a number, a dict) is logged and left out; empty entries are left
        out, and each is masked, then cut to :data:`WARNING_MAX_CHARS`."""
        out: list[tuple[str, str]] = []
        for plugin, fn in self._impls("hub_status_warnings"):
            try:
                notes = fn(settings=settings_by_plugin.get(plugin, {}), state=state_of(plugin))
                if isinstance(notes, str):
                    notes = [notes]
                elif notes is not None and not isinstance(notes, (list, tuple, set, frozenset)):
                    log.error(
                        "plugin %r: hub_status_warnings returned a %s, expected a list of "
                        "strings; ignored", plugin, type(notes).__name__,
                    )  # fmt: skip
                    continue
                for n in notes or ():
                    if n is not None and str(n).strip():
                        out.append((plugin, _bounded_warning(n)))
            except Exception:
                log.exception("plugin %r failed in hub_status_warnings", plugin)
        return out

    def add_commands(self, cli: Any) -> None:
        self.pm.hook.hub_add_commands(cli=cli)

    def emulator_commands(self) -> list[Any]:
        return [cmd for cmds in self.pm.hook.hub_emulator_commands() for cmd in (cmds or [])]

    # -- broadcasts --------------------------------------------------------------------------
    def _broadcast(self, hook_name: str, **kwargs: Any) -> None:
        for plugin, fn in self._impls(hook_name):
            try:
                fn(**kwargs)
            except Exception:
                log.exception("plugin %r failed in %s", plugin, hook_name)

    def flow_started(self, flow: str, source: str, sink: str) -> None:
        self._broadcast("hub_flow_started", flow=flow, source=source, sink=sink)

    def flow_stopped(self, flow: str, reason: str) -> None:
        self._broadcast("hub_flow_stopped", flow=flow, reason=reason)

    def record_synced(self, record: Record, target_id: str | None, summary: dict) -> None:
        if self.pm.hook.hub_record_synced.get_hookimpls():
            self._broadcast(
                "hub_record_synced", record=record, target_id=target_id, summary=summary
            )

    def record_parked(self, record: Record, reason: str) -> None:
        self._broadcast("hub_record_parked", record=record, reason=reason)
