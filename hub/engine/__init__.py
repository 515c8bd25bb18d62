"""The sync engine."""

from .backoff import retry_delay
from .engine import Engine
from .processor import BatchProcessor, BatchStats

__all__ = ["Engine", "BatchProcessor", "BatchStats", "retry_delay"]
