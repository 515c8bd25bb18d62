"""Declarative mappings: target fields from configuration, not code (``hub.declarative``)."""

from .declarative import DeclarativeMapping
from .targets import check_targets, target_fields

__all__ = ["DeclarativeMapping", "check_targets", "target_fields"]
