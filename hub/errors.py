"""The exception tree of ml-connector.

Every error the core or a plugin raises on purpose derives from :class:`HubError`. The branch an
error belongs to tells the engine what to do next::

    HubError
    ├── ConfigError          bad configuration: the hub stops at start-up and says what to fix
    │   └── VaultError       the credential vault cannot be opened or a name is missing
    ├── StoreError           the audit and replay store cannot be opened or upgraded
    ├── FatalError           the flow cannot go on (e.g. credentials rejected); it stops,
    │                        its in-flight records are released, other flows carry on
    ├── RetriableError       a transient failure (timeout, 5xx, rate limit); the record is
    │                        retried with exponential backoff and full jitter, honouring
    │                        ``retry_after`` when the server gave one
    ├── RecordError          this record cannot be processed as it is (bad data, no match);
    │                        no retry can fix it, so it is parked with a reason naming the
    │                        record and the field
    └── SkipRecord           this record is not for this flow (an opportunity not yet won):
                             it is marked skipped with the reason, nothing is written

Any other exception escaping a plugin is treated like :class:`RetriableError` until the flow's
``max_attempts`` is spent, then the record is parked.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error raised on purpose by the hub or its plugins."""


class ConfigError(HubError):
    """The configuration is invalid; the message names the file, the key and what is expected."""


class VaultError(ConfigError):
    """The credential vault cannot be used (missing or unsafe key file, unknown name, bad key)."""


class StoreError(HubError):
    """The store cannot be opened, or its schema is newer than this release understands."""


class FatalError(HubError):
    """The flow cannot continue; the engine stops it and releases what it had claimed."""


class RetriableError(HubError):
    """A transient failure: try the record again later.

    ``retry_after`` (seconds) is the server's own hint (a ``Retry-After`` header); the engine
    never retries sooner than that.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecordError(HubError):
    """This record cannot be processed as it is; it is parked, not retried.

    ``field`` names the offending field (or ``None`` when the record as a whole is at fault).
    The message always names the record and the field so an operator can fix the data.
    """

    def __init__(self, reason: str, *, field: str | None = None, record: str | None = None):
        self.reason = reason
        self.field = field
        self.record = record
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.record:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field {self.field!r}")
        prefix = ", ".join(parts)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def for_record(self, record: str) -> RecordError:
        """Return this error with the record named (the engine calls this)."""
        if self.record is None:
            self.record = record
            self.args = (self._compose(),)
        return self


class SkipRecord(HubError):
    """The record is not for this flow (a condition of the mapping does not hold); it is marked
    skipped with this reason and nothing is written. A later change of the record is processed
    as usual."""
