"""The audit and replay store (peewee): SQLite by default, PostgreSQL for scale-out."""

from .database import sqlite_url
from .leases import LeaseLost
from .models import DONE, LIVE, PARKED, PENDING, PROCESSING, SKIPPED, STATUSES
from .store import Event, LinkWrite, Outcome, Store

__all__ = [
    "Store",
    "LeaseLost",
    "Outcome",
    "Event",
    "LinkWrite",
    "sqlite_url",
    "DONE",
    "LIVE",
    "PARKED",
    "PENDING",
    "PROCESSING",
    "SKIPPED",
    "STATUSES",
]
