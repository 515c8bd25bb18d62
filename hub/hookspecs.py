"""The hooks of ml-connector. Every hook is named ``hub_*``; plugins implement them with
``@hub.hookimpl``. The core calls them only through ``hub.plugins.PluginHost``.

Registry hooks receive a registry and add classes to it; the work lives in those classes
(``hub.components``). Broadcast hooks are called on every enabled plugin after the fact and
their return values are ignored; an exception in one is logged and never stops a flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .components import Check, Record
    from .listener import Router
    from .plugins import Registry
    from .settings import Schema

PROJECT = "ml_connector"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def hub_plugin_settings() -> Schema:
    """Declare the keys this plugin reads from its ``[plugins.NAME]`` config section.

    Called once per plugin at start-up, before anything else, to validate the config: unknown
    keys, wrong types and missing required values stop the hub with a message. Return a mapping
    of key to ``hub.Setting``; mark credentials ``secret=True`` (they must then be written as
    references and reach the plugin already resolved). ``enabled`` is the core's own key.
    """


@hookspec
def hub_configure(settings: dict[str, Any]) -> None:
    """Receive this plugin's resolved ``[plugins.NAME]`` settings (secrets already resolved).

    Called once per enabled plugin at start-up, after the whole config validated and before
    any flow starts. Plugins whose broadcast hooks need settings keep them here. A problem
    found here should raise ``hub.ConfigError`` naming ``plugins.NAME.KEY``. Return nothing.
    """


@hookspec
def hub_register_sources(registry: Registry) -> None:
    """Add ``hub.Source`` subclasses with ``registry.add(cls)``.

    Called once at start-up for every enabled plugin. Each class needs a unique ``name``; flows
    refer to it as ``source = "<name>"``. Return nothing.
    """


@hookspec
def hub_register_sinks(registry: Registry) -> None:
    """Add ``hub.Sink`` subclasses with ``registry.add(cls)``.

    Called once at start-up for every enabled plugin; flows refer to a sink by its ``name``.
    A sink declares its best ``batch_size``. Return nothing.
    """


@hookspec
def hub_register_matchers(registry: Registry) -> None:
    """Add ``hub.Matcher`` subclasses with ``registry.add(cls)``.

    Called once at start-up for every enabled plugin; flows refer to a matcher by its ``name``
    (``matcher = "<name>"``). Return nothing.
    """


@hookspec
def hub_register_mappings(registry: Registry) -> None:
    """Add ``hub.Mapping`` subclasses with ``registry.add(cls)``.

    Called once at start-up for every enabled plugin; flows refer to a mapping by its ``name``
    (``mapping = "<name>"``; without one, records pass through unchanged). Return nothing.
    """


@hookspec
def hub_flow_started(flow: str, source: str, sink: str) -> None:
    """Broadcast: ``flow`` started (``hub run`` or ``hub sync``), reading ``source`` into ``sink``.

    Called in the engine's thread before the first record; keep it quick. Return nothing.
    """


@hookspec
def hub_flow_stopped(flow: str, reason: str) -> None:
    """Broadcast: ``flow`` stopped. ``reason`` is ``"completed"``, ``"shutdown"`` or the error
    that stopped it.

    Called once per flow when ``hub run`` or ``hub sync`` ends, after its components closed;
    a good moment to flush buffered notifications. Return nothing.
    """


@hookspec
def hub_record_synced(record: Record, target_id: str | None, summary: dict[str, Any]) -> None:
    """Broadcast: ``record`` was written to its sink and the result committed.

    Called after the commit, from a worker thread; ``summary`` is already redacted. Keep it
    quick (queue slow work). Return nothing.
    """


@hookspec
def hub_record_parked(record: Record, reason: str) -> None:
    """Broadcast: ``record`` was parked (dead-lettered) and needs a person; ``reason`` names the
    record and the field. Called after the commit, from a worker thread. Return nothing.
    """


@hookspec
def hub_register_routes(router: Router) -> None:
    """Add HTTP routes to the hub's listener with ``router.add(method, path, handler)``.

    Called once per enabled plugin when ``hub run`` starts the listener (``[hub] listen``).
    ``handler`` takes a ``hub.listener.HttpRequest`` and returns a ``hub.listener.HttpResponse``;
    it runs on the listener's thread pool (never in the engine) and may block, for example to
    commit what it received before answering. ``router.state`` is the plugin's state (see
    ``hub.plugin_state``). Paths must be unique across plugins. Return nothing.
    """


@hookspec
def hub_status_warnings(settings: dict[str, Any], state: Any) -> list[str]:
    """Warnings for ``hub status`` about this plugin's system (e.g. "the webhook subscription
    is Exceptional"), from what the plugin recorded in its ``state`` while running.

    Called once per enabled plugin by ``hub status``; make no network calls here. Return a
    list of short sentences (empty when all is well). Under ``hub run`` each new warning is
    also sent as an alert ``<plugin>.warning``, unless it is a :class:`hub.AlertedWarning`
    (the plugin sends an alert of its own kind for it).
    """


@hookspec
def hub_add_commands(cli: click.Group) -> None:
    """Add click commands to the ``hub`` command line with ``cli.add_command(cmd)``.

    Called when the command line is built, for every installed plugin that is not disabled in
    the config. Do no work here beyond defining commands. Return nothing.
    """


@hookspec
def hub_emulator_commands() -> list[click.Command]:
    """Return click commands to mount under ``hub emulate`` (one per emulated system).

    Called when ``hub emulate`` is used, for every installed plugin not disabled in the config.
    """


@hookspec
def hub_ping(settings: dict[str, Any], flows: list[dict[str, Any]]) -> list[Check]:
    """Check this plugin's own system for ``hub ping``; ``settings`` is the plugin's resolved
    ``[plugins.NAME]`` section.

    ``flows`` lists the configured flows that use at least one of this plugin's components, so
    the plugin can check what they need (objects, fields): one dict per flow with ``name`` and,
    for each of its components the plugin provides, ``source``/``sink``/``matcher``/``mapping``
    (the component's name) and ``<kind>_options`` (its options, defaults filled in). An
    implementation may leave ``flows`` out of its signature.

    Called once per enabled plugin. Return a list of ``hub.Check`` (name, ok, detail); never
    raise for a failed check, report it. Checks must be bounded in time.
    """


@hookspec
def hub_metrics(settings: dict[str, Any], state: Any) -> list[Any]:
    """Figures of this plugin's own system for ``/metrics``: a list of ``hub.Metric``.

    Called on every scrape of ``/metrics`` (under ``hub run`` with ``[hub] listen``), once per
    enabled plugin, from a listener thread: return what the plugin already counted (API calls
    by operation and status, logins and token refreshes, daily API usage against a budget,
    session age, CDC lag), with no network call. Names follow Prometheus conventions (counters
    end in ``_total``, base units); labels come from ``hub.ops.metric_types.LABELS`` and never
    carry a record id. A bad sample is logged once and the plugin's samples left out.
    """


@hookspec
def hub_readiness(settings: dict[str, Any], state: Any) -> list[Check]:
    """Whether this plugin can work right now, for ``/readyz``: a list of ``hub.Check``.

    Called once per enabled plugin on every ``/readyz`` request; no network call: report what
    the plugin knows (its session or token is held and not expired, its last login worked).
    Return the checks; one with ``ok=False`` makes ``/readyz`` answer 503 with its detail.
    """


@hookspec
def hub_alert(alert: Any) -> None:
    """Broadcast: something needs a person (a ``hub.Alert``: ``kind``, ``subject``, ``text``,
    ``flow``, ``details``).

    Kinds: ``record.parked``, ``flow.stopped`` (published by the core), ``drift.found``
    (``hub reconcile``), ``sapb1.subscription_expired``, ``salesforce.budget_crossed``
    (published by those plugins with ``hub.publish_alert``). Notifier plugins deliver it;
    called from the thread that published it, so queue slow work. Return nothing.
    """


@hookspec
def hub_register_reconcilers(registry: Any) -> None:
    """Add ``hub.Reconciler`` subclasses with ``registry.add(cls)`` for ``hub reconcile``.

    Called once per enabled plugin when the drift report runs. A reconciler compares the two
    systems directly for one flow (or one kind of pair) and reports drift. Return nothing.
    """
