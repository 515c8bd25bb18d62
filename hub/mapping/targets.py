"""Checking a mapping's target fields against what the target system says it has.

The catalogue comes from the sink itself: :meth:`hub.Sink.target_fields` returns the fields of
the object it writes as ``{name: TargetField}`` (``length`` for text fields, ``fields`` for the
members of a collection such as document lines, ``writable=False`` for a field that exists
but cannot be written), or ``None`` when it cannot tell. The plugins read it from the target
(``$metadata``, describe); the core never reaches into a sink's connection. A sink that does
not implement it (the default answers ``None``) is not checked.
"""

from __future__ import annotations

import logging

from ..components import Sink, TargetField
from .rules import MappingRules

log = logging.getLogger(__name__)


def target_fields(sink: Sink) -> dict[str, TargetField] | None:
    """The sink's field catalogue, or ``None`` when it offers none."""
    return sink.target_fields()


def _other_case(name: str, fields: dict[str, TargetField]) -> str:
    """A hint when the target has the field in another case (names are case-sensitive)."""
    same = sorted(f for f in fields if f.lower() == name.lower())
    return f" (it has {', '.join(map(repr, same))}: field names are case-sensitive)" if same else ""


def check_targets(
    rules: MappingRules, catalogue: dict[str, TargetField] | None, system: str | None
) -> tuple[list[str], dict[str, int]]:
    """Problems (each naming the config key and the field) and the lengths ``truncate = true``
    resolves to, keyed ``Field`` or ``Lines.Field``."""
    problems: list[str] = []
    lengths: dict[str, int] = {}

    def one(rule, fields: dict[str, TargetField] | None, key: str) -> None:
        if rule.owner and rule.owner == system:
            return  # never written to the target
        if fields is None:
            if rule.truncate is True:
                problems.append(f"{rule.key}: truncate = true, but the target does not report "
                                f"the length of {rule.target}: give it (truncate = N)")  # fmt: skip
            return
        info = fields.get(rule.target)
        if info is None:
            problems.append(f"{rule.key}: no field {rule.target!r} on the target"
                            + _other_case(rule.target, fields))  # fmt: skip
            return
        if not info.writable:
            problems.append(f"{rule.key}: field {key!r} is read-only on the target")
            return
        if rule.truncate is True:
            if not info.length:
                problems.append(f"{rule.key}: truncate = true, but the target reports no length "
                                f"for {rule.target}: give it (truncate = N)")  # fmt: skip
            else:
                lengths[key] = info.length

    for rule in rules.fields:
        one(rule, catalogue, rule.target)
    for group in rules.lines:
        info = catalogue.get(group.target) if catalogue is not None else None
        if catalogue is not None and info is None:
            problems.append(f"{group.key}: no field {group.target!r} on the target"
                            + _other_case(group.target, catalogue))  # fmt: skip
            continue
        if info is not None and not info.writable:
            problems.append(f"{group.key}: field {group.target!r} is read-only on the target")
            continue
        members = info.fields if info is not None else None
        for rule in group.fields + (group.when_empty or []):
            one(rule, members, f"{group.target}.{rule.target}")
    return problems, lengths
