"""``hub.declarative``: a mapping configured in TOML, usable by any plugin's flows.

The rules (see :mod:`hub.mapping.rules`) are read when the flow is built, so a bad rule stops
the hub at start-up; the target fields they name are checked against the sink's own field
catalogue (``$metadata``, describe) when the flow opens (``hub run``, ``hub sync``) and by
``hub ping``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..components import Mapping, Record, Sink
from ..errors import ConfigError, RecordError, SkipRecord
from ..settings import Setting
from . import transforms as tf
from .rules import Condition, FieldRule, MappingRules, parse_rules
from .targets import check_targets, target_fields

MISSING = object()


class DeclarativeMapping(Mapping):
    """Target fields from source paths, constants, value maps and named transforms."""

    name = "hub.declarative"
    options = {
        "fields": Setting(dict, default={}, help="target field = rule"),
        "lines": Setting(dict, default={}, help="target array = {from, fields, when_empty}"),
        "value_maps": Setting(dict, default={}, help="name = {source value = target value}"),
        "when": Setting(dict, help="map only records meeting this condition; skip the others"),
        "label": Setting(str, help="source path naming the record in messages (e.g. Name)"),
        "object_label": Setting(str, help="what a record is called in messages (Opportunity)"),
    }

    def __init__(self, context, options):
        super().__init__(context, options)
        prefix = f"flows.{context.flow}.mapping_options"
        self.rules: MappingRules = parse_rules(options, prefix)
        self.sink: Sink | None = None
        self.lengths: dict[str, int] = {}
        self.today = lambda: dt.datetime.now(dt.UTC).date()

    # -- start-up ------------------------------------------------------------------------------
    def bind_sink(self, sink: Sink) -> None:
        """The core hands over the flow's sink so ownership and the target can be checked."""
        self.sink = sink

    def open(self) -> None:
        if self.sink is None:
            return
        catalogue = target_fields(self.sink)
        if catalogue is None:
            self.log.info(
                "flow %s: sink %s offers no field catalogue; target fields not checked",
                self.context.flow,
                self.sink.name,
            )
        self.lengths = self.check(catalogue)

    def check(self, catalogue) -> dict[str, int]:
        """Raise ConfigError naming the flow and the field when the target lacks one; return
        the lengths ``truncate = true`` needs."""
        problems, lengths = check_targets(self.rules, catalogue, self.sink_system())
        if problems:
            sink = self.sink.name if self.sink else "the sink"
            raise ConfigError(
                f"flow {self.context.flow}: the mapping does not fit what {sink} writes to:\n  - "
                + "\n  - ".join(problems)
            )
        return lengths

    def sink_system(self) -> str | None:
        return getattr(self.sink, "system", None) or None

    # -- mapping -------------------------------------------------------------------------------
    def accepts(self, record: Record) -> None:
        """Raise SkipRecord when the record does not meet ``when`` (the core asks before
        matching, so a skipped record costs no look-up)."""
        for cond in self.rules.when:
            if not self._holds(cond, record.payload):
                test = cond.test.replace("_", " ")
                raise SkipRecord(
                    f"{self._describe(record)}: not mapped, the condition "
                    f"{cond.path} {test} {cond.value!r} does not hold"
                )

    def map(self, record: Record, match: dict[str, Any]) -> dict[str, Any]:
        payload = record.payload
        self.accepts(record)
        out: dict[str, Any] = {}
        system = self.sink_system()
        for rule in self.rules.fields:
            if rule.owner and rule.owner == system:
                continue  # the target owns it: never written there
            value = self._value(rule, record, payload, match, rule.target)
            if value is not MISSING:
                out[rule.target] = value
        for group in self.rules.lines:
            lines = tf.get_path(payload, group.source_path)
            built: list[dict[str, Any]] = []
            if isinstance(lines, list) and lines:
                for n, line in enumerate(lines):
                    built.append(
                        self._line(
                            group.fields,
                            record,
                            line,
                            match,
                            f"{group.source_path}[{n}]",
                            group.target,
                            n,
                        )
                    )
            elif group.when_empty:
                built.append(
                    self._line(
                        group.when_empty, record, {}, match, group.source_path, group.target, 0
                    )
                )
            if built:
                out[group.target] = built
        return out

    def _line(self, rules: list[FieldRule], record, line, match, where, target, n) -> dict:
        item: dict[str, Any] = {}
        for rule in rules:
            value = self._value(rule, record, line, match, f"{target}.{rule.target}", where)
            if value is not MISSING:
                item[rule.target] = value
        return item

    def _holds(self, cond: Condition, payload: dict[str, Any]) -> bool:
        value = tf.get_path(payload, cond.path)
        if cond.test == "equals":
            return value == cond.value
        if cond.test == "not_equals":
            return value != cond.value
        if cond.test == "in":
            return value in cond.value
        if cond.test == "not_in":
            return value not in cond.value
        if cond.test == "not_empty":
            return not tf.is_empty(value) if cond.value else tf.is_empty(value)
        return tf.is_empty(value) if cond.value else not tf.is_empty(value)

    def _describe(self, record: Record) -> str:
        what = self.opts.get("object_label") or record.object_type
        label = tf.get_path(record.payload, self.opts["label"]) if self.opts.get("label") else None
        return f"{what} {record.external_id}" + (f" {label!r}" if label else "")

    def explain(self, record: Record, exc: RecordError) -> RecordError:
        """A matcher's or sink's RecordError, led by what the record is (``Opportunity 006...
        'Acme renewal': ...``) when ``label`` or ``object_label`` is set."""
        if not (self.opts.get("label") or self.opts.get("object_label")):
            return exc
        prefix = self._describe(record)
        if exc.reason.startswith(prefix):
            return exc
        return RecordError(f"{prefix}: {exc.reason}", field=exc.field, record=exc.record)

    def _fail(self, record: Record, rule: FieldRule, where: str | None, why: str) -> RecordError:
        origin = rule.origin
        if where and rule.source == "path":
            origin = f"{where}.{rule.arg}"
        return RecordError(f"{self._describe(record)}: {why}", field=origin)

    def _raw(self, rule: FieldRule, payload: dict, record: Record, match: dict) -> Any:
        if rule.source == "path":
            return tf.get_path(payload, rule.arg)
        if rule.source == "record":
            return tf.get_path(record.payload, rule.arg)
        if rule.source == "match":
            return tf.get_path(match or {}, rule.arg)
        if rule.source == "const":
            return rule.arg
        if rule.source == "subtract":
            return tf.difference([tf.get_path(payload, p) for p in rule.arg])
        a = rule.arg
        return tf.payment_status(
            tf.get_path(payload, a["total"]),
            tf.get_path(payload, a["paid"]),
            tf.get_path(payload, a["due"]) if a.get("due") else None,
            self.today(),
        )

    def _value(self, rule, record, payload, match, target_key, where=None) -> Any:
        try:
            value = self._raw(rule, payload, record, match)
        except tf.ValueProblem as exc:
            raise self._fail(record, rule, where, str(exc)) from None
        if tf.is_empty(value):
            if rule.default is not None:
                value = rule.default
            elif rule.required:
                raise self._fail(record, rule, where, f"no value for {rule.target}")
            else:
                return MISSING
        try:
            if rule.value_map:
                table = self.rules.value_maps[rule.value_map]
                key = str(value) if not isinstance(value, str) else value
                if key in table:
                    value = table[key]
                elif "*" in table:
                    value = table["*"]
                else:
                    known = ", ".join(sorted(table))
                    raise tf.ValueProblem(
                        f"{value!r} has no entry in value map {rule.value_map!r} (known: {known})"
                    )
            if rule.date:
                value = tf.format_date(value, rule.date)
            if rule.round is not None:
                value = tf.round_to(value, rule.round)
            if rule.truncate:
                length = (
                    rule.truncate if rule.truncate is not True else self.lengths.get(target_key)
                )
                if length:
                    value = tf.truncate(value, length)
        except tf.ValueProblem as exc:
            raise self._fail(record, rule, where, str(exc)) from None
        return value
