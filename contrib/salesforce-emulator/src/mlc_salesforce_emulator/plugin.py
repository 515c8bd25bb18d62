from hub import hookimpl

from .cli import salesforce


@hookimpl
def hub_emulator_commands():
    """Mount `hub emulate salesforce`."""
    return [salesforce]
