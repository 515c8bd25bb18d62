"""Executing a SOQL statement end to end: candidates, filter, sort, project, subqueries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .record_ids import normalize_id
from .soql_engine import QueryRunner
from .soql_parser import Compare, Literal, SoqlError, SubQuerySyntax, parse_soql

if TYPE_CHECKING:
    from .org_state import OrgState

MAX_OFFSET = 2000


def _fast_candidates(org: OrgState, obj: str, where) -> list[dict] | None:
    """Records for a top-level ``Id = '...'`` or indexed-field equality, else None."""
    if not isinstance(where, Compare) or where.op != "=" or len(where.path) != 1:
        return None
    lit: Literal = where.values[0]
    if lit.kind != "string":
        return None
    name = where.path[0]
    odef = org.object_def(obj)
    fdef = odef.field(name) if odef else None
    if fdef is None:
        return None
    if fdef.name == "Id":
        rid = normalize_id(lit.value)
        rec = org.store.get(odef.name, rid) if rid else None
        return [rec] if rec else []
    if (odef.name, fdef.name) in org.store.indexes:
        return [org.store.get(odef.name, i) for i in org.store.find_by(odef.name, fdef.name,
                                                                      lit.value)]
    return None


def run_query(org: OrgState, text: str, include_deleted: bool, version: str,
              open_cursor=None) -> list[dict] | int:
    """Rendered records of the query, or the count for ``SELECT COUNT()``.

    ``open_cursor(records, page_size)`` keeps a long child subquery result for query-more and
    returns its ``nextRecordsUrl``; without it, child results are never paged."""
    try:
        return _run_query(org, text, include_deleted, version, open_cursor)
    except SoqlError as exc:
        raise exc.located(text) from None
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "\nthe query is too deeply nested") from None


def _run_query(org: OrgState, text: str, include_deleted: bool, version: str, open_cursor):
    syntax = parse_soql(text)
    runner = QueryRunner(org, version)
    odef = runner._object(syntax.obj)
    paths, subqueries = [], []
    for item in syntax.fields:
        if isinstance(item, SubQuerySyntax):
            subqueries.append(_compile_subquery(runner, odef, item, open_cursor))
        else:
            paths.append(runner.resolve(odef, item))
    predicate = runner.compile_where(odef, syntax.where)
    for item in syntax.order:
        runner.resolve(odef, item.path)
    if syntax.offset is not None and syntax.offset > MAX_OFFSET:
        raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE",
                        f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    candidates = _fast_candidates(org, odef.name, syntax.where)
    if candidates is None:
        candidates = org.store.table(odef.name).values()
    rows = [r for r in candidates
            if (include_deleted or not r.get("IsDeleted")) and (predicate is None or predicate(r))]
    if syntax.count_only:
        return len(rows)
    if syntax.order:
        rows = runner.sort(odef, rows, syntax.order)
    if syntax.offset:
        rows = rows[syntax.offset:]
    if syntax.limit is not None:
        rows = rows[:syntax.limit]
    out = []
    for rec in rows:
        rendered = runner.render(odef, rec, paths)
        for name, child_rows in subqueries:
            rendered[name] = child_rows(rec)
        out.append(rendered)
    return out


def _compile_subquery(runner: QueryRunner, parent, sub: SubQuerySyntax, open_cursor):
    found = parent.child_relationship(sub.relationship)
    if found is None:
        raise SoqlError("INVALID_TYPE", f"\nDidn't understand relationship "
                        f"'{sub.relationship}' in FROM part of query call. If you are attempting "
                        "to use a custom relationship, be sure to append the '__r' after the "
                        "custom relationship name.")
    child_obj, link_field = found
    codef = runner.org.object_def(child_obj)
    rel_name = next(k for k in parent.child_relationships
                    if k.lower() == sub.relationship.lower())
    paths = [runner.resolve(codef, p) for p in sub.fields]
    predicate = runner.compile_where(codef, sub.where)
    for item in sub.order:
        runner.resolve(codef, item.path)
    groups: dict[str, list[dict]] | None = None

    def rows_for(parent_rec: dict):
        nonlocal groups
        if groups is None:
            groups = {}
            for child in runner.org.store.live(codef.name):
                key = child.get(link_field)
                if key and (predicate is None or predicate(child)):
                    groups.setdefault(key, []).append(child)
        rows = groups.get(parent_rec["Id"], [])
        if not rows:
            return None
        if sub.order:
            rows = runner.sort(codef, rows, sub.order)
        if sub.limit is not None:
            rows = rows[:sub.limit]
        records = [runner.render(codef, r, paths) for r in rows]
        size = runner.org.profile.child_page_size
        if open_cursor is None or len(records) <= size:
            return {"totalSize": len(records), "done": True, "records": records}
        # a long child result pages on its own, as a real org's does: follow its nextRecordsUrl
        return {"totalSize": len(records), "done": False,
                "nextRecordsUrl": open_cursor(records, size), "records": records[:size]}

    return rel_name, rows_for
