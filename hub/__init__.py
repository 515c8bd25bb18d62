"""ml-connector: keeps SAP Business One and Salesforce aligned.

The public API for plugins is what ``__all__`` lists; everything else is internal.
"""

from .components import (
    Change,
    ChangeBatch,
    Check,
    Component,
    ComponentContext,
    Mapping,
    Matcher,
    Record,
    Sink,
    SinkItem,
    Source,
    TargetField,
    WriteResult,
    content_hash,
)
from .errors import (
    ConfigError,
    FatalError,
    HubError,
    RecordError,
    RetriableError,
    SkipRecord,
    StoreError,
    VaultError,
)
from .hookspecs import hookimpl
from .ops.alerts import Alert, AlertedWarning, publish_alert
from .ops.metric_types import Metric, SystemTallies, Tally, system_tallies
from .ops.reconcile import BudgetExhausted, Drift, Reconciler
from .settings import Setting

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertedWarning",
    "BudgetExhausted",
    "Change",
    "ChangeBatch",
    "Check",
    "Component",
    "ComponentContext",
    "ConfigError",
    "Drift",
    "FatalError",
    "HubError",
    "Mapping",
    "Matcher",
    "Metric",
    "Reconciler",
    "Record",
    "RecordError",
    "RetriableError",
    "Setting",
    "Sink",
    "SinkItem",
    "SkipRecord",
    "Source",
    "StoreError",
    "SystemTallies",
    "Tally",
    "TargetField",
    "VaultError",
    "WriteResult",
    "content_hash",
    "hookimpl",
    "publish_alert",
    "system_tallies",
    "__version__",
]
