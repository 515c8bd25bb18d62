"""A local emulator of a Salesforce org: OAuth, REST and the Pub/Sub API with CDC.

Run it with ``python -m mlc_salesforce_emulator --data-dir DIR`` (or ``hub emulate salesforce``);
use it from pytest with ``pytest_plugins = ["mlc_salesforce_emulator.testing"]``.
"""

__version__ = "0.1.0"
