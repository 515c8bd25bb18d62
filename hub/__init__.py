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
from .settings import Setting

__version__ = "0.1.0"

__all__ = [
    "Change",
    "ChangeBatch",
    "Check",
    "Component",
    "ComponentContext",
    "ConfigError",
    "FatalError",
    "HubError",
    "Mapping",
    "Matcher",
    "Record",
    "RecordError",
    "RetriableError",
    "Setting",
    "Sink",
    "SinkItem",
    "SkipRecord",
    "Source",
    "StoreError",
    "TargetField",
    "VaultError",
    "WriteResult",
    "content_hash",
    "hookimpl",
    "__version__",
]
