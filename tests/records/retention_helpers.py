"""Builders and checks for the retention tests: a student made due, the tables that hold a
student's rows (found from the metadata, so a table added later is checked without being listed)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, tuple_

from app.db import today_kst
from app.extensions import db
from app.records.retention_erase import SKIP_TABLES, related_rows
from app.records.retention_models import StudentRetention


def make_due(student, days_ago: int = 1) -> StudentRetention:
    """Move the student's last day kept into the past (the rules have their own tests)."""
    row = db.session.get(StudentRetention, student.id)
    row.until = today_kst() - dt.timedelta(days=days_ago)
    db.session.commit()
    return row


def keyed_tables() -> list:
    """Every mapped table with a foreign key to student.id or support_case.id, and (repeatedly)
    every table with a foreign key to one of those (activity logs via assignments …)."""
    tables = db.Model.metadata.tables
    names = {"student"}
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            if table.name not in names and table.name not in SKIP_TABLES and any(
                    fk.column.table.name in names for fk in table.foreign_keys):
                names.add(table.name)
                changed = True
    return [tables[n] for n in sorted(names)]


def snapshot(student) -> dict:
    """The student's rows in every keyed table: {table: set of primary keys}, and the case ids."""
    found = related_rows(student.id)
    keys = {}
    for table in keyed_tables():
        pk = [c.name for c in table.primary_key.columns]
        keys[table.name] = {tuple(r[c] for c in pk) for r in found.get(table.name, ())}
    case_ids = [k[0] for k in keys.get("support_case", ())]
    return {"keys": keys, "student_id": student.id, "case_ids": case_ids}


def leftovers(snap: dict) -> dict[str, int]:
    """{table: rows still there} of a snapshot: rows seen before, or any row referencing the
    student's id or one of their case ids."""
    left = {}
    for table in keyed_tables():
        pk = list(table.primary_key.columns)
        conditions = []
        seen = snap["keys"].get(table.name)
        if seen:
            conditions.append(tuple_(*pk).in_(sorted(seen)) if len(pk) > 1 else pk[0].in_([k[0] for k in seen]))
        for fk in table.foreign_keys:
            if fk.column.table.name == "student":
                conditions.append(fk.parent == snap["student_id"])
            elif fk.column.table.name == "support_case" and snap["case_ids"]:
                conditions.append(fk.parent.in_(snap["case_ids"]))
        if conditions:
            n = len(db.session.execute(select(*pk).where(or_(*conditions))).all())
            if n:
                left[table.name] = n
    return left
