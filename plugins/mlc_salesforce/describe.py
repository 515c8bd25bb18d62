"""What a sink may write, from the object's describe (read once per connection).

:func:`target_fields` turns ``GET sobjects/<Type>/describe`` into the hub's field catalogue
(:class:`hub.TargetField`): ``length`` for text fields as describe gives it, and ``writable``
only where the integration user may set the field (``createable`` for a sink that creates,
``updateable`` for one that updates; field-level security is already applied by describe).
A field that exists but is not writable is kept with ``writable=False``, so a mapping naming
it is told it is read-only. ``Id`` is always writable: it names the record a sink updates.
"""

from __future__ import annotations

from hub import TargetField

from .rest import SalesforceRest

TEXT_TYPES = frozenset(
    {"string", "textarea", "phone", "url", "email", "picklist", "multipicklist", "combobox",
     "encryptedstring"}
)  # fmt: skip
RECORD_ID = "Id"
CREATES_OR_UPDATES = ("createable", "updateable")
UPDATES = ("updateable",)


def target_fields(
    rest: SalesforceRest, sobject: str, writes: tuple[str, ...] = CREATES_OR_UPDATES
) -> dict[str, TargetField]:
    """``sobject``'s fields; writable when describe sets one of the ``writes`` flags."""
    out: dict[str, TargetField] = {}
    for f in rest.describe(sobject).get("fields", []):
        name = f["name"]
        length = f.get("length") if f.get("type") in TEXT_TYPES else None
        writable = name == RECORD_ID or any(f.get(flag) for flag in writes)
        out[name] = TargetField(name, length or None, writable=writable)
    return out
