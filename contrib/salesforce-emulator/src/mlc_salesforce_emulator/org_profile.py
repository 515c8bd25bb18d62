"""Org profiles: which features the emulated org has, and its limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

DEFAULT_CDC_OBJECTS = ("Account", "Opportunity", "Order")


@dataclass
class OrgProfile:
    edition: str = "Enterprise"
    orders_enabled: bool = True
    invoice_enabled: bool = False
    multi_currency: bool = False
    currencies: list[str] = field(default_factory=lambda: ["USD", "EUR", "GBP"])
    default_currency: str = "USD"
    cdc_objects: list[str] = field(default_factory=lambda: list(DEFAULT_CDC_OBJECTS))
    session_timeout_seconds: int = 7200
    daily_api_limit: int = 15000
    query_page_size: int = 2000
    child_page_size: int = 200
    keepalive_seconds: float = 30.0
    retention_hours: float = 72.0
    idle_stream_timeout_seconds: float = 60.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> OrgProfile:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def update(self, changes: dict) -> list[str]:
        """Apply known keys of ``changes``; return the unknown ones."""
        known = {f.name for f in fields(self)}
        unknown = [k for k in changes if k not in known]
        for key, value in changes.items():
            if key in known:
                setattr(self, key, value)
        if not self.orders_enabled:
            self.cdc_objects = [o for o in self.cdc_objects if o != "Order"]
        return unknown


EDITIONS = {
    "Developer": {"daily_api_limit": 15000},
    "Enterprise": {"daily_api_limit": 15000},
    "Unlimited": {"daily_api_limit": 100000},
}
