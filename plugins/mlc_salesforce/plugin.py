"""Hook implementations of the Salesforce plugin (entry point ``salesforce``)."""

from __future__ import annotations

from hub import hookimpl

from .settings import SETTINGS, check_settings


@hookimpl
def hub_plugin_settings():
    return dict(SETTINGS)


@hookimpl
def hub_configure(settings):
    check_settings(settings)
