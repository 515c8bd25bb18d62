"""Server-rendered HTML of the console; every value from the store is escaped and masked."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from typing import Any

from ..secrets import redact_text
from ..store import STATUSES


def e(value: Any) -> str:
    """Escaped and masked text for HTML."""
    return html.escape(redact_text("" if value is None else str(value)), quote=True)


def when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(seconds: float | None) -> str:
    if not seconds:
        return "none"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def layout(title: str, body: str, session: Any = None) -> str:
    nav = ""
    if session is not None:
        nav = (
            '<a href="/">Overview</a><a href="/drift">Drift report</a>'
            f'<span class="who">{e(session.account.name)} ({e(session.account.role)})</span>'
            '<form class="inline" method="post" action="/logout">'
            f'<input type="hidden" name="csrf" value="{e(session.csrf)}">'
            '<button type="submit" id="logout">Log out</button></form>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)} · ml-connector</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/console.css"></head><body>'
        f"<header><h1>ml-connector</h1>{nav}</header><main>{body}</main>"
        '<script src="/console.js"></script></body></html>'
    )


def login_page(token: str, error: str = "") -> str:
    err = f'<p class="error" id="login-error">{e(error)}</p>' if error else ""
    body = (
        '<section class="login"><h2>Sign in</h2>'
        f'{err}<form method="post" action="/login">'
        f'<input type="hidden" name="csrf" value="{e(token)}">'
        '<label for="user">User</label><input id="user" name="user" autocomplete="username">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password">'
        '<p><button class="primary" type="submit" id="sign-in">Sign in</button></p></form>'
        '<form method="post" action="/login" id="token-form">'
        f'<input type="hidden" name="csrf" value="{e(token)}">'
        '<label for="admin-token">Or the admin token</label>'
        '<input id="admin-token" name="admin_token" type="password" autocomplete="off">'
        '<p><button type="submit" id="sign-in-token">Sign in with the token</button></p></form>'
        '<p class="muted">Accounts: <code>hub console set-password USER --role admin</code>; '
        "an admin token: <code>hub console admin-token</code></p>"
        "</section>"
    )
    return layout("Sign in", body)


def overview_page(data: dict[str, Any], session: Any, *, q: str, flow: str, flash: str) -> str:
    admin = session.account.is_admin
    head = "".join(f"<th>{e(s)}</th>" for s in STATUSES)
    flows = "".join(
        f'<tr data-flow="{e(f["flow"])}"><td>{e(f["flow"])}</td>'
        f'<td class="{e(f["state"])}">{e(f["state"])}</td><td>{e(age(f["lag_seconds"]))}</td>'
        + "".join(
            f'<td class="num" data-status="{e(s)}">{f["records"].get(s, 0)}</td>' for s in STATUSES
        )
        + "</tr>"
        for f in data["flows"]
    )
    options = "".join(
        f'<option value="{e(f["flow"])}"{" selected" if f["flow"] == flow else ""}>'
        f"{e(f['flow'])}</option>"
        for f in data["flows"]
    )
    parked = "".join(
        f'<tr data-id="{p["id"]}"><td>'
        + (
            f'<input type="checkbox" name="id" value="{p["id"]}" form="replay-form">'
            if admin
            else ""
        )
        + f'</td><td><a href="/record?id={p["id"]}">#{p["id"]} {e(p["external_id"])}</a></td>'
        f'<td>{e(p["flow"])}</td><td class="reason">{e(p["reason"])}</td>'
        f'<td class="num">{p["attempts"]}</td></tr>'
        for p in data["parked"]
    )
    errors = "".join(
        f"<tr><td>{e(x['flow'])}</td><td>#{x['id']} {e(x['external_id'])}</td>"
        f'<td>{e(x["status"])}</td><td class="reason">{e(x["error"])}</td></tr>'
        for x in data["errors"]
    )
    replay = (
        '<form id="replay-form" method="post" action="/replay">'
        f'<input type="hidden" name="csrf" value="{e(session.csrf)}">'
        '<button class="primary" type="submit" id="replay-selected">Replay selected</button>'
        "</form>"
        if admin
        else '<p class="muted">Replay needs the admin role.</p>'
    )
    flash_html = f'<p class="flash" id="flash">{e(flash)}</p>' if flash else ""
    body = (
        f'<div id="overview" data-interval="3000">{flash_html}'
        f"<section><h2>Flows</h2><table><thead><tr><th>flow</th><th>state</th><th>lag</th>{head}"
        f'</tr></thead><tbody id="flows-body">{flows}</tbody></table>'
        f'<p class="muted">updated <span id="updated">{e(when(time.time()))}</span></p></section>'
        '<section><h2>Parked records (<span id="parked-count">'
        f"{len(data['parked'])}</span>)</h2>"
        '<form method="get" action="/" id="filter">'
        f'<input name="q" id="search" placeholder="external id or reason" value="{e(q)}"> '
        f'<select name="flow" id="flow-filter"><option value="">all flows</option>{options}'
        '</select> <button type="submit" id="apply-filter">Filter</button></form>'
        "<table><thead><tr><th></th><th>record</th><th>flow</th><th>reason</th><th>attempts</th>"
        f'</tr></thead><tbody id="parked-body">{parked}</tbody></table>{replay}</section>'
        "<section><h2>Last errors</h2><table><thead><tr><th>flow</th><th>record</th>"
        f'<th>status</th><th>error</th></tr></thead><tbody id="errors-body">{errors}</tbody>'
        "</table></section></div>"
    )
    return layout("Overview", body, session)


def record_page(rec: dict[str, Any], session: Any) -> str:
    can_replay = session.account.is_admin and rec["status"] in ("parked", "done", "skipped")
    replay = (
        '<form method="post" action="/replay">'
        f'<input type="hidden" name="csrf" value="{e(session.csrf)}">'
        f'<input type="hidden" name="id" value="{rec["id"]}">'
        f'<input type="hidden" name="back" value="/record?id={rec["id"]}">'
        '<button class="primary" type="submit" id="replay-one">Replay</button></form>'
        if can_replay
        else ""
    )
    events = "".join(
        f'<tr><td>{e(when(ev["at"]))}</td><td>{e(ev["step"])}</td><td class="num">'
        f'{ev["attempt"]}</td><td class="reason">{e(ev["summary"] or "")}</td></tr>'
        for ev in rec["events"]
    )
    live = "1" if rec["status"] in ("pending", "processing") else "0"
    body = (
        f'<section id="record" data-id="{rec["id"]}" data-live="{live}">'
        f"<h2>#{rec['id']} {e(rec['flow'])}/{e(rec['object_type'])}/{e(rec['external_id'])}</h2>"
        f'<p>status <strong id="record-status">{e(rec["status"])}</strong> after '
        f"{rec['attempts']} attempt(s); received {e(when(rec['received']))}</p>"
        + (f'<p class="error">{e(rec["last_error"])}</p>' if rec["last_error"] else "")
        + f"{replay}<h2>Timeline</h2><table><thead><tr><th>at</th><th>step</th><th>attempt</th>"
        f'<th>details</th></tr></thead><tbody id="timeline">{events}</tbody></table></section>'
    )
    return layout(f"Record #{rec['id']}", body, session)


def drift_page(report: dict[str, Any] | None, session: Any) -> str:
    if not report:
        body = (
            '<section><h2>Drift report</h2><p id="drift-none">No drift report yet: run '
            "<code>hub reconcile</code>.</p></section>"
        )
        return layout("Drift report", body, session)
    rows = "".join(
        f"<tr><td>{e(d['flow'])}</td><td>{e(d['kind'])}</td><td>{e(d['key'])}</td>"
        f'<td class="reason">{e(d["detail"])}</td></tr>'
        for d in report.get("drift", [])
    )
    body = (
        f"<section><h2>Drift report of {e(when(report.get('at')))}</h2>"
        f'<p id="drift-summary">{len(report.get("drift", []))} difference(s); '
        f"{report.get('total_calls', 0)} API call(s)</p>"
        "<table><thead><tr><th>flow</th><th>kind</th><th>key</th><th>detail</th></tr></thead>"
        f'<tbody id="drift-body">{rows}</tbody></table></section>'
    )
    return layout("Drift report", body, session)
