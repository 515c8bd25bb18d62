"""Running parsed SOQL against the record store: field resolution, filters, ordering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import NUMBER_TYPES, FieldDef, ObjectDef
from .emulator_clock import date_to_ms, parse_datetime
from .field_values import attributes, render_value
from .record_ids import normalize_id
from .soql_dates import date_literal_range
from .soql_parser import ESCAPES, BoolOp, Compare, Literal, QuerySyntax, SoqlError, parse_soql

if TYPE_CHECKING:
    from .org_state import OrgState

STRINGY = {"string", "textarea", "picklist", "phone", "url", "email"}


@dataclass
class ResolvedPath:
    text: str
    hops: list[FieldDef]  # reference fields followed, in order
    fdef: FieldDef
    names: list[str]  # relationship names then field name, as written in the output


class QueryRunner:
    def __init__(self, org: OrgState, version: str) -> None:
        self.org = org
        self.version = version

    # resolution ----------------------------------------------------------------------
    def _object(self, name: str) -> ObjectDef:
        odef = self.org.object_def(name)
        if odef is None:
            raise SoqlError("INVALID_TYPE", f"\nsObject type '{name}' is not supported. If you "
                            "are attempting to use a custom object, be sure to append the '__c' "
                            "after the entity name. Please reference your WSDL or the describe "
                            "call for the appropriate names.")
        return odef

    def resolve(self, odef: ObjectDef, path: list[str]) -> ResolvedPath:
        text = ".".join(path)
        parts = list(path)
        if len(parts) > 1 and parts[0].lower() == odef.name.lower() \
                and odef.relationship(parts[0]) is None:
            parts = parts[1:]
        hops, names, current = [], [], odef
        for rel in parts[:-1]:
            ref = current.relationship(rel)
            if ref is None or self.org.object_def(ref.reference_to) is None:
                raise SoqlError("INVALID_FIELD", f"\nDidn't understand relationship '{rel}' in "
                                f"field path. If you are attempting to use a custom relationship, "
                                "be sure to append the '__r' after the custom relationship name.",
                                at=path)
            hops.append(ref)
            names.append(ref.relationship_name)
            current = self.org.object_def(ref.reference_to)
        fdef = current.field(parts[-1])
        if fdef is None:
            raise SoqlError("INVALID_FIELD", f"\nNo such column '{parts[-1]}' on entity "
                            f"'{current.name}'. If you are attempting to use a custom field, be "
                            "sure to append the '__c' after the custom field name. Please "
                            "reference your WSDL or the describe call for the appropriate names.",
                            at=path)
        names.append(fdef.name)
        return ResolvedPath(text, hops, fdef, names)

    def _follow(self, rec: dict | None, hops: list[FieldDef]) -> dict | None:
        for ref in hops:
            if rec is None:
                return None
            target = rec.get(ref.name)
            rec = self.org.store.get(ref.reference_to, target) if target else None
        return rec

    def value(self, rec: dict, rp: ResolvedPath):
        target = self._follow(rec, rp.hops)
        return None if target is None else target.get(rp.fdef.name)

    # filters ---------------------------------------------------------------------------
    def _literal(self, fdef: FieldDef, lit: Literal, op: str):
        t = fdef.type
        if lit.kind == "null":
            return None
        bad = SoqlError("INVALID_FIELD", f"\nvalue of filter criterion for field '{fdef.name}' "
                        f"must be of type {t} and should "
                        f"{'' if t in STRINGY or t in ('id', 'reference') else 'not '}be enclosed "
                        "in quotes", at=lit)
        if t in STRINGY or t in ("id", "reference"):
            if lit.kind != "string":
                raise bad
            if t in ("id", "reference") and op not in ("LIKE",):
                return (normalize_id(lit.value) or lit.value).lower()
            return lit.value if op == "LIKE" else lit.value.lower()
        if t in NUMBER_TYPES:
            if lit.kind != "number":
                raise bad
            return lit.value
        if t == "boolean":
            if lit.kind != "boolean":
                raise bad
            return lit.value
        if t in ("date", "datetime"):
            if lit.kind == "date_literal":
                start, end = date_literal_range(lit.value, self.org.clock.today())
                if t == "date":
                    return ("range", start.isoformat(), end.isoformat())
                return ("range", date_to_ms(start), date_to_ms(end))
            if t == "date" and lit.kind == "date":
                return lit.value
            if t == "datetime" and lit.kind == "datetime":
                return parse_datetime(lit.value)
            raise SoqlError("INVALID_FIELD", f"\nvalue of filter criterion for field "
                            f"'{fdef.name}' must be of type {t} and should not be enclosed in "
                            "quotes", at=lit)
        raise SoqlError("INVALID_FIELD", f"\nfield '{fdef.name}' can not be filtered in a query "
                        "call")

    def compile_where(self, odef: ObjectDef, node):
        if node is None:
            return None
        if isinstance(node, BoolOp):
            parts = [self.compile_where(odef, n) for n in node.items]
            if node.op == "and":
                return lambda r: all(p(r) for p in parts)
            if node.op == "or":
                return lambda r: any(p(r) for p in parts)
            inner = parts[0]
            return lambda r: not inner(r)
        return self._compile_compare(odef, node)

    def _compile_compare(self, odef: ObjectDef, node: Compare):
        rp = self.resolve(odef, node.path)
        if not rp.fdef.filterable:
            raise SoqlError("INVALID_FIELD", f"\nfield '{rp.fdef.name}' can not be filtered in "
                            "a query call", at=node.path)
        lower = rp.fdef.type in STRINGY or rp.fdef.type in ("id", "reference")
        get = self.value

        def norm(v):
            return v.lower() if lower and isinstance(v, str) else v

        op = node.op
        if op in ("IN", "NOT IN"):
            wanted = {self._literal(rp.fdef, lit, op) for lit in node.values}
            if op == "IN":
                return lambda r: norm(get(r, rp)) in wanted
            return lambda r: norm(get(r, rp)) not in wanted
        if op == "LIKE":
            if rp.fdef.type not in STRINGY:
                raise SoqlError("INVALID_FIELD", f"\ninvalid operator on {rp.fdef.type} field: "
                                "LIKE", at=node.path)
            self._literal(rp.fdef, node.values[0], op)  # type check
            regex = re.compile(_like_to_regex(node.values[0].raw), re.IGNORECASE | re.DOTALL)
            return lambda r: (v := get(r, rp)) is not None and regex.fullmatch(v) is not None
        lit = self._literal(rp.fdef, node.values[0], op)
        if isinstance(lit, tuple):
            _, start, end = lit
            tests = {"=": lambda v: start <= v < end, "!=": lambda v: not start <= v < end,
                     "<": lambda v: v < start, "<=": lambda v: v < end,
                     ">": lambda v: v >= end, ">=": lambda v: v >= start}
            test = tests[op]
            return lambda r: (v := get(r, rp)) is not None and test(v)
        if lit is None:
            if op not in ("=", "!="):
                raise SoqlError("MALFORMED_QUERY", "\nnull can only be compared with = or !=")
            return (lambda r: get(r, rp) is None) if op == "=" else \
                (lambda r: get(r, rp) is not None)
        if op == "=":
            return lambda r: norm(get(r, rp)) == lit
        if op == "!=":
            return lambda r: norm(get(r, rp)) != lit
        if rp.fdef.type == "boolean":
            raise SoqlError("INVALID_FIELD", f"\ninvalid operator on boolean field: {op}",
                            at=node.path)
        cmp = {"<": lambda v: v < lit, "<=": lambda v: v <= lit,
               ">": lambda v: v > lit, ">=": lambda v: v >= lit}[op]
        return lambda r: (v := norm(get(r, rp))) is not None and cmp(v)

    # ordering ---------------------------------------------------------------------------
    def sort(self, odef: ObjectDef, records: list[dict], order) -> list[dict]:
        for item in reversed(order):
            rp = self.resolve(odef, item.path)
            nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
            present = [r for r in records if self.value(r, rp) is not None]
            absent = [r for r in records if self.value(r, rp) is None]

            def key(r, rp=rp):
                v = self.value(r, rp)
                return v.lower() if isinstance(v, str) else v

            present.sort(key=key, reverse=item.descending)
            records = absent + present if nulls_first else present + absent
        return records

    # rendering ------------------------------------------------------------------------
    def render(self, odef: ObjectDef, rec: dict, paths: list[ResolvedPath]) -> dict:
        out = {"attributes": attributes(odef.name, rec["Id"], self.version)}
        for rp in paths:
            node, source = out, rec
            for ref in rp.hops:
                rel = ref.relationship_name
                target_obj = self.org.object_def(ref.reference_to)
                target = self.org.store.get(target_obj.name, source.get(ref.name) or "") \
                    if source is not None else None
                if target is None:
                    node[rel] = None
                    break
                if not isinstance(node.get(rel), dict):
                    node[rel] = {"attributes": attributes(target_obj.name, target["Id"],
                                                          self.version)}
                node, source = node[rel], target
            else:
                node[rp.fdef.name] = render_value(rp.fdef, source)
        return out


def _like_to_regex(token: str) -> str:
    """A regex for a LIKE pattern, read from the literal as written: ``%`` and ``_`` are
    wildcards, ``\\%`` and ``\\_`` are the characters themselves, other escapes as anywhere."""
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(re.escape(ESCAPES.get(nxt, nxt)))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)


__all__ = ["QueryRunner", "parse_soql", "QuerySyntax", "SoqlError"]
