"""The built-in Salesforce plugin of ml-connector (entry point ``salesforce``).

Connection (``auth``, ``rest``, ``pubsub``, ``avro``) is kept apart from data (``sources``,
``cdc``, ``sinks``, ``matchers``); ``plugin`` holds the hooks only. See the README beside this
file for settings, components and modes.
"""

__version__ = "0.1.0"
