"""``hub.all_of``: several matchers for one flow, each asked once per batch, answers merged.

A sales order needs its business partner and its items; each plugin offers one matcher per
question. ``hub.all_of`` runs them in order: a record one of them refuses (``RecordError``) is
parked with that reason and not asked about again, so an opportunity without a partner costs
no item look-up. The answers of the others are merged into one dict for the mapping.

```toml
[flows.opportunities-to-orders]
matcher = "hub.all_of"
[flows.opportunities-to-orders.matcher_options]
matchers = [
  {name = "sapb1.business_partner_by_code", options = {field = "Account.AccountNumber"}},
  {name = "sapb1.item_by_code", options = {lines_field = "OpportunityLineItems"}},
]
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .components import Matcher, Record
from .errors import ConfigError, RetriableError
from .settings import Setting

ComponentFactory = Callable[[str, dict[str, Any], str], Matcher]


class AllOfMatcher(Matcher):
    """Runs the listed matchers in order and merges their answers."""

    name = "hub.all_of"
    options = {
        "matchers": Setting(
            list, required=True, help='[{name = "plugin.matcher", options = {...}}, ...]'
        ),
    }

    def bind_components(self, make: ComponentFactory) -> None:
        """The core hands over a factory building a registered matcher with its options."""
        prefix = f"flows.{self.context.flow}.matcher_options.matchers"
        self.parts: list[Matcher] = []
        if not self.opts["matchers"]:
            raise ConfigError(f"{prefix}: list at least one matcher")
        for i, spec in enumerate(self.opts["matchers"]):
            key = f"{prefix}[{i}]"
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ConfigError(f'{key}: expected {{name = "plugin.matcher", options = {{...}}}}')
            extra = set(spec) - {"name", "options"}
            if extra:
                raise ConfigError(f"{key}: unknown key {sorted(extra)[0]!r} (known: name, options)")
            if spec["name"] == self.name:
                raise ConfigError(f"{key}.name: {self.name} cannot list itself")
            options = spec.get("options") or {}
            if not isinstance(options, dict):
                raise ConfigError(f"{key}.options: expected a table")
            self.parts.append(make(spec["name"], options, key))

    def open(self) -> None:
        for part in self.parts:
            part.open()

    def close(self) -> None:
        for part in self.parts:
            part.close()

    def match(self, record: Record) -> dict[str, Any]:
        (result,) = self.match_batch([record])
        if isinstance(result, BaseException):
            raise result
        return result

    def match_batch(self, records: list[Record]) -> list[dict[str, Any] | BaseException]:
        out: list[dict[str, Any] | BaseException] = [{} for _ in records]
        for part in self.parts:
            live = [i for i, o in enumerate(out) if not isinstance(o, BaseException)]
            if not live:
                break
            try:
                answers = list(part.match_batch([records[i] for i in live]))
            except Exception as exc:
                answers = [exc for _ in live]
            if len(answers) != len(live):
                error = RetriableError(
                    f"matcher {part.name!r} returned {len(answers)} results for {len(live)}"
                )
                answers = [error for _ in live]
            for i, answer in zip(live, answers, strict=True):
                out[i] = answer if isinstance(answer, BaseException) else {**out[i], **answer}
        return out
