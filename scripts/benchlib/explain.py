"""--explain: the statements of each page, captured in-process (Flask test client signed in with
the server's session cookies, a before_cursor_execute listener), then EXPLAIN QUERY PLAN (SQLite)
or EXPLAIN (PostgreSQL) of every distinct SELECT with the parameters it ran with."""
from __future__ import annotations

import re
import time
from collections import OrderedDict

from sqlalchemy import event

from .login import csrf_token
from .pages import Page

#: plan lines worth a second look: a full scan, or a sort SQLite had to build
SQLITE_WARN = re.compile(r"^SCAN (?!.*USING (COVERING )?INDEX)|USE TEMP B-TREE")
PG_WARN = re.compile(r"Seq Scan|Sort Method: external")


def capture(app, page: Page, path: str, cookies: dict) -> list[tuple[str, object]]:
    """Run the page once in-process and return every (statement, parameters) it sent."""
    from app.extensions import db
    seen: list[tuple[str, object]] = []

    def listener(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            seen.append((statement, parameters))

    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    with app.app_context():
        engine = db.engine
    form = None
    if page.method == "POST":
        html = client.get(path).get_data(as_text=True)
        form = dict(page.form, csrf_token=csrf_token(html))
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.post(path, data=form) if form is not None else client.get(path)
        response.get_data()
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def distinct_selects(statements) -> "OrderedDict[str, dict]":
    found: OrderedDict[str, dict] = OrderedDict()
    for statement, parameters in statements:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head not in ("SELECT", "WITH"):
            continue
        entry = found.setdefault(statement, {"count": 0, "parameters": parameters})
        entry["count"] += 1
    return found


def explain_statement(app, statement: str, parameters) -> tuple[list[str], float]:
    """The plan, and the time to run the statement again and fetch every row (ms), rolled back."""
    from app.extensions import db
    with app.app_context():
        dialect = db.engine.dialect.name
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            params = parameters if parameters is not None else ()
            cursor.execute(prefix + statement, params)
            rows = cursor.fetchall()
            started = time.perf_counter()
            cursor.execute(statement, params)
            cursor.fetchall()
            ms = (time.perf_counter() - started) * 1000
            raw.rollback()
        finally:
            raw.close()
    if dialect == "sqlite":
        depth: dict[int, int] = {}
        lines = []
        for node, parent, _unused, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return lines, ms
    return [row[0] for row in rows], ms


def explain_page(app, page: Page, path: str, cookies: dict) -> dict:
    statements = capture(app, page, path, cookies)
    selects = distinct_selects(statements)
    out = {"statements": len(statements), "distinct_selects": len(selects), "plans": []}
    for statement, info in selects.items():
        try:
            plan, ms = explain_statement(app, statement, info["parameters"])
        except Exception as error:  # a statement EXPLAIN cannot take is reported, not fatal
            plan, ms = [f"(EXPLAIN failed: {type(error).__name__}: {error})"], None
        out["plans"].append({"sql": " ".join(statement.split()), "count": info["count"],
                             "ms": None if ms is None else round(ms, 2), "plan": plan})
    out["sql_ms"] = round(sum((p["ms"] or 0) * p["count"] for p in out["plans"]), 1)
    return out


def format_explain(key: str, label: str, info: dict, dialect: str) -> str:
    warn = SQLITE_WARN if dialect == "sqlite" else PG_WARN
    lines = [f"== {label} [{key}]: {info['statements']} statements, {info['distinct_selects']} distinct SELECTs "
             f"(run again with every row fetched: {info['sql_ms']:.1f} ms)"]
    for item in info["plans"]:
        sql = item["sql"]
        ms = "?" if item["ms"] is None else f"{item['ms']:.1f}"
        lines.append(f"-- ×{item['count']} {ms} ms: {sql[:300]}{'…' if len(sql) > 300 else ''}")
        for line in item["plan"]:
            lines.append(("!! " if warn.search(line.strip()) else "   ") + line)
    return "\n".join(lines)
