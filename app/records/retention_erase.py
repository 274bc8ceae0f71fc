"""Removing one student whose retention date passed: everything about them, in every feature, in
one transaction, leaving a tombstone with counts and an audit trail that still verifies.

How "everything" is found: ``related_rows`` walks the foreign keys of every mapped table from the
student down (cases, then anything referencing a case, then anything referencing those rows …),
so a table added later is found without anyone remembering it.  The features first delete their
own rows through ``student_retained_until_passed`` (they also know the rows that are linked by a
key rather than a foreign key: alerts named by "referral:12", a link with a uid, a meeting's
amendment copies); records then deletes what is left of that tree, children before parents
(PostgreSQL checks foreign keys per statement), ending with the cases and the student.  Before
anything goes, each case is copied as a de-identified fact for the statistics (retention_facts.py).
A web request changing the same student at the same moment makes one of the two transactions fail
as a whole; a failed student is tried again by the next run.

Rows are deleted, never blanked, so their ciphertexts go with them.  On SQLite the deleting
connection turns ``PRAGMA secure_delete`` on, so freed pages are overwritten with zeros rather than
keeping the old ciphertext in the file; on PostgreSQL the dead tuples are reclaimed by (auto)vacuum
(the README asks for a ``VACUUM`` after a large first run).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, text, tuple_

from .. import signals
from ..audit.services import record
from ..extensions import db
from ..students.models import Student
from .retention_facts import record_case_facts
from .retention_models import RetentionTombstone, StudentRetention
from .retention_services import active_hold_condition

#: tables never walked into: the audit trail is handled by tombstoning its subject reference
SKIP_TABLES = {"audit_event", "audit_checkpoint"}


def _key_columns(table) -> list:
    """The columns to remember of a removed row: its primary key, every column another table's
    foreign key points at, and its uid (links carry uids)."""
    referenced = {fk.column.name for other in table.metadata.tables.values() for fk in other.foreign_keys
                  if fk.column.table is table}
    names = [c.name for c in table.primary_key.columns]
    names += sorted(referenced - set(names))
    if "uid" in table.c and "uid" not in names:
        names.append("uid")
    return [table.c[name] for name in names]


def related_rows(student_id: int) -> dict[str, list[dict]]:
    """Every row that references the student, directly or through other such rows, by foreign key:
    {table name: [{key column: value}]} (the student's own row included)."""
    metadata = db.Model.metadata
    tables = [t for t in metadata.sorted_tables if t.name not in SKIP_TABLES]
    found: dict[str, dict[tuple, dict]] = {"student": {}}
    student = metadata.tables["student"]
    for row in db.session.execute(select(*_key_columns(student)).where(student.c.id == student_id)).mappings():
        found["student"][(row["id"],)] = dict(row)
    changed = True
    while changed:
        changed = False
        for table in tables:
            conditions = []
            for fk in table.foreign_keys:
                parents = found.get(fk.column.table.name)
                values = {r[fk.column.name] for r in parents.values()} if parents else set()
                if values:
                    conditions.append(fk.parent.in_(sorted(values)))
            if not conditions:
                continue
            pk = [c.name for c in table.primary_key.columns]
            rows = found.setdefault(table.name, {})
            for row in db.session.execute(select(*_key_columns(table)).where(or_(*conditions))).mappings():
                key = tuple(row[name] for name in pk)
                if key not in rows:
                    rows[key] = dict(row)
                    changed = True
    return {name: list(rows.values()) for name, rows in found.items() if rows}


def _delete_tree(found: dict[str, list[dict]]) -> None:
    """Delete the rows still there, children before parents."""
    for table in reversed(db.Model.metadata.sorted_tables):
        rows = found.get(table.name)
        if not rows:
            continue
        pk = list(table.primary_key.columns)
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            if len(pk) == 1:
                condition = pk[0].in_([r[pk[0].name] for r in chunk])
            else:
                condition = tuple_(*pk).in_([tuple(r[c.name] for c in pk) for r in chunk])
            db.session.execute(delete(table).where(condition))


def _forget_instances(found: dict[str, list[dict]]) -> None:
    keys = {name: {tuple(r[c.name] for c in db.Model.metadata.tables[name].primary_key.columns) for r in rows}
            for name, rows in found.items()}
    for obj in list(db.session.identity_map.values()):
        table = db.inspect(obj).mapper.local_table
        if table.name in keys and db.inspect(obj).identity in keys[table.name]:
            db.session.expunge(obj)


def is_due(student_id: int, today: dt.date) -> StudentRetention | None:
    """The student's row if they are (still) due on ``today``: a second run, or a hold set since
    the list was read, leaves them alone."""
    return db.session.execute(
        select(StudentRetention).join(Student, Student.id == StudentRetention.student_id)
        .where(StudentRetention.student_id == student_id, StudentRetention.until < today,
               ~active_hold_condition(today))).scalar_one_or_none()


def remove_student(student_id: int, today: dt.date) -> RetentionTombstone | None:
    """Delete one due student and everything about them; returns the tombstone (None: not due).
    The caller commits (one student per transaction)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA secure_delete = ON"))
    retention = is_due(student_id, today)
    if retention is None:
        return None
    student = db.session.get(Student, student_id)
    school = student.school
    found = related_rows(student.id)
    counts = {name: len(rows) for name, rows in found.items()}
    tombstone = RetentionTombstone(rule=retention.rule, school_id=school.id, office_code=school.office_code,
                                   counts={})
    db.session.add(tombstone)
    db.session.flush()
    # before anything goes: the statistics' de-identified copy of the cases (retention_facts.py)
    record_case_facts(tombstone, [r["id"] for r in found.get("support_case", ())])
    ids = {name: sorted(r["id"] for r in rows if "id" in r) for name, rows in found.items()}
    uids = {name: sorted(r["uid"] for r in rows if r.get("uid")) for name, rows in found.items()}
    for _receiver, removed in signals.student_retained_until_passed.send(
            student, actor=None, tombstone=tombstone, rows=ids, uids=uids):
        for name, n in (removed or {}).items():
            counts[name] = max(counts.get(name, 0), n)
    subject_ref = student.uid
    db.session.flush()
    _forget_instances(found)  # the ORM must not flush, or reload, rows deleted below its back
    _delete_tree(found)
    tombstone = db.session.get(RetentionTombstone, tombstone.id)
    counts["audit_event"] = _tombstone_audit(subject_ref, f"retained:{tombstone.uid}")
    tombstone.counts = counts
    record("student_retention_removed", obj=tombstone, actor=None,
           details={"rule": tombstone.rule, "school_id": tombstone.school_id, "counts": counts})
    return tombstone


def _tombstone_audit(subject_ref: str, tombstone_ref: str) -> int:
    """Replace the student's uid in the audit trail by the tombstone (the lead engineer's
    app/audit/tombstones.py keeps the chain verifiable)."""
    from ..audit.tombstones import tombstone_subject
    return tombstone_subject(subject_ref, tombstone_ref, session=db.session)
