"""Reading a declarative mapping's rules from ``[flows.NAME.mapping_options]``.

Every problem is found at start-up and reported as a ``ConfigError`` that names the flow and the
key to fix (``flows.NAME.mapping_options.fields.DocDate: ...``). Rule syntax, in TOML::

    CardName = "Name"                                  # shorthand for {path = "Name"}
    CardCode = {match = "CardCode"}                    # from the matcher's answer
    DocDate  = {path = "CloseDate", date = "%Y-%m-%d"}
    Comments = {path = "Description", truncate = true, default = "-"}
    DocCurrency = {path = "CurrencyIsoCode", map = "currency"}
    Series   = {const = 4}
    CreditLimit = {path = "Credit_Limit__c", owner = "sapb1"}   # never written to SAP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

SOURCES = ("path", "match", "record", "const", "subtract", "payment_status")
STEPS = ("default", "map", "date", "round", "truncate", "required", "owner")
CONDITIONS = ("equals", "not_equals", "in", "not_in", "not_empty", "empty")


@dataclass
class FieldRule:
    """How one target field gets its value."""

    target: str
    key: str  # the config key, for messages
    source: str
    arg: Any
    default: Any = None
    value_map: str | None = None
    date: str | None = None
    round: int | None = None
    truncate: bool | int | None = None
    required: bool = False
    owner: str | None = None

    @property
    def origin(self) -> str:
        """The source field a message names (``OpportunityLineItems[2].ProductCode``)."""
        if self.source in ("path", "record"):
            return str(self.arg)
        if self.source == "match":
            return f"match.{self.arg}"
        return self.target


@dataclass
class LineGroup:
    """A target array (``DocumentLines``) built from a source array, one element per line."""

    target: str
    key: str
    source_path: str
    fields: list[FieldRule]
    when_empty: list[FieldRule] | None = None


@dataclass
class Condition:
    path: str
    test: str
    value: Any = None


@dataclass
class MappingRules:
    fields: list[FieldRule] = field(default_factory=list)
    lines: list[LineGroup] = field(default_factory=list)
    value_maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    when: list[Condition] = field(default_factory=list)

    def all_fields(self) -> list[FieldRule]:
        out = list(self.fields)
        for group in self.lines:
            out += group.fields + (group.when_empty or [])
        return out


def _fail(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}")


def parse_rule(target: str, spec: Any, key: str) -> FieldRule:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise _fail(key, 'expected a source path ("Name") or a table such as {path = "Name"}')
    unknown = sorted(set(spec) - set(SOURCES) - set(STEPS))
    if unknown:
        known = ", ".join(SOURCES + STEPS)
        raise _fail(key, f"unknown rule key {unknown[0]!r} (known: {known})")
    sources = [s for s in SOURCES if s in spec]
    if len(sources) != 1:
        raise _fail(key, "give exactly one of " + ", ".join(SOURCES))
    source = sources[0]
    arg = spec[source]
    if source in ("path", "match", "record") and (not isinstance(arg, str) or not arg):
        raise _fail(key, f'{source} must be a field path such as "Account.AccountNumber"')
    if source == "subtract" and not (
        isinstance(arg, list) and len(arg) >= 2 and all(isinstance(a, str) for a in arg)
    ):
        raise _fail(key, 'subtract takes two or more paths: ["DocTotal", "PaidToDate"]')
    if source == "payment_status":
        if (
            not isinstance(arg, dict)
            or not {"total", "paid"} <= set(arg)
            or set(arg) - {"total", "paid", "due"}
        ):
            raise _fail(
                key,
                'payment_status takes {total = "DocTotal", paid = "PaidToDate", '
                'due = "DocDueDate"}',
            )
    rule = FieldRule(target=target, key=key, source=source, arg=arg)
    rule.default = spec.get("default")
    if "map" in spec:
        if not isinstance(spec["map"], str):
            raise _fail(key, "map names a table of [mapping_options.value_maps]")
        rule.value_map = spec["map"]
    if "date" in spec:
        if not isinstance(spec["date"], str) or "%" not in spec["date"]:
            raise _fail(key, 'date is an output format such as "%Y-%m-%d"')
        rule.date = spec["date"]
    if "round" in spec:
        if (
            not isinstance(spec["round"], int)
            or isinstance(spec["round"], bool)
            or not (0 <= spec["round"] <= 10)
        ):
            raise _fail(key, "round is a number of decimal places (0-10)")
        rule.round = spec["round"]
    if "truncate" in spec:
        t = spec["truncate"]
        if not (t is True or (isinstance(t, int) and not isinstance(t, bool) and t > 0)):
            raise _fail(key, "truncate is true (the target field's length) or a length")
        rule.truncate = t
    if "required" in spec:
        if not isinstance(spec["required"], bool):
            raise _fail(key, "required is true or false")
        rule.required = spec["required"]
    if "owner" in spec:
        if not isinstance(spec["owner"], str) or not spec["owner"]:
            raise _fail(key, 'owner names the system that owns the field, e.g. "sapb1"')
        rule.owner = spec["owner"]
    return rule


def parse_condition(spec: Any, key: str) -> list[Condition]:
    if isinstance(spec, dict) and "all" in spec and len(spec) == 1:
        if not isinstance(spec["all"], list):
            raise _fail(key, "all is a list of conditions")
        out: list[Condition] = []
        for i, one in enumerate(spec["all"]):
            out += parse_condition(one, f"{key}.all[{i}]")
        return out
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
        raise _fail(key, 'expected {path = "IsWon", equals = true} (or in, not_in, not_empty)')
    tests = [t for t in CONDITIONS if t in spec]
    extra = set(spec) - {"path"} - set(CONDITIONS)
    if len(tests) != 1 or extra:
        raise _fail(key, "give the path and exactly one of " + ", ".join(CONDITIONS))
    test = tests[0]
    value = spec[test]
    if test in ("in", "not_in") and not isinstance(value, list):
        raise _fail(key, f"{test} takes a list of values")
    return [Condition(spec["path"], test, value)]


def parse_rules(options: dict[str, Any], prefix: str) -> MappingRules:
    """The rules of ``options`` (validated against the mapping's schema already)."""
    rules = MappingRules()
    maps = options.get("value_maps") or {}
    for name, table in maps.items():
        if not isinstance(table, dict):
            raise _fail(f"{prefix}.value_maps.{name}", "expected a table of source = target")
        rules.value_maps[name] = dict(table)
    fields = options.get("fields") or {}
    lines = options.get("lines") or {}
    if not fields and not lines:
        raise _fail(f"{prefix}.fields", "a mapping needs at least one field")
    for target, spec in fields.items():
        rules.fields.append(parse_rule(target, spec, f"{prefix}.fields.{target}"))
    for target, spec in lines.items():
        key = f"{prefix}.lines.{target}"
        if not isinstance(spec, dict) or not isinstance(spec.get("from"), str):
            raise _fail(key, 'expected {from = "OpportunityLineItems", fields = {...}}')
        extra = set(spec) - {"from", "fields", "when_empty"}
        if extra:
            raise _fail(key, f"unknown key {sorted(extra)[0]!r} (known: from, fields, when_empty)")
        line_fields = spec.get("fields") or {}
        if not isinstance(line_fields, dict) or not line_fields:
            raise _fail(f"{key}.fields", "a table of the line's target fields")
        group = LineGroup(
            target,
            key,
            spec["from"],
            [parse_rule(t, s, f"{key}.fields.{t}") for t, s in line_fields.items()],
        )
        if "when_empty" in spec:
            empty = spec["when_empty"]
            if not isinstance(empty, dict) or not empty:
                raise _fail(f"{key}.when_empty", "a table of the one line's target fields")
            group.when_empty = [parse_rule(t, s, f"{key}.when_empty.{t}") for t, s in empty.items()]
        rules.lines.append(group)
    for rule in rules.all_fields():
        if rule.value_map and rule.value_map not in rules.value_maps:
            known = ", ".join(sorted(rules.value_maps)) or "none"
            raise _fail(rule.key, f"no value map {rule.value_map!r} (value_maps: {known})")
    if options.get("when"):
        rules.when = parse_condition(options["when"], f"{prefix}.when")
    return rules
