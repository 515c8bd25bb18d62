from hub import hookimpl

from .cli import sapb1


@hookimpl
def hub_emulator_commands():
    """Mount `hub emulate sapb1`."""
    return [sapb1]
