"""`flask retention preview|run|refresh`: the daily removal of students whose retention ended.

``run`` is meant for a daily timer (README text: /tmp/b/requests-retention.md).  Each student goes
in a transaction of their own, so a stopped run resumes where it was and a second run finds
nothing left to do.  The CLI output names no student: a uid, the school, the rule and the date are
enough to look a student up in Ieum while they still exist, and a terminal log is not audited.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import Organisation
from ..db import today_kst
from ..extensions import db
from ..students.models import Student
from .retention_erase import remove_student
from .retention_models import StudentRetention
from .retention_services import due_query, end_lapsed_holds, refresh_missing

RULE_WORDS = {"completion": "completion (고등학교 졸업 예정)", "age19": "age19 (학업 중단: 만 19세)"}


@click.group("retention")
def retention():
    """학생 정보 보존 기간(학생맞춤통합지원법 시행령 제10조⑤) 관리 명령."""


def _due_rows(today):
    ids = db.session.execute(due_query(today)).scalars().all()
    if not ids:
        return []
    return db.session.execute(
        select(Student.uid, Organisation.name, StudentRetention.rule, StudentRetention.until)
        .join(Organisation, Organisation.id == Student.school_id)
        .join(StudentRetention, StudentRetention.student_id == Student.id)
        .where(Student.id.in_(ids)).order_by(StudentRetention.until, Student.id)).all()


@retention.command("preview")
@with_appcontext
def preview():
    """삭제될 학생 목록(학생 uid, 학교, 규칙, 보존 기한)을 보여 줄 뿐 아무것도 바꾸지 않음."""
    today = today_kst()
    missing = db.session.execute(select(Student.id).outerjoin(
        StudentRetention, StudentRetention.student_id == Student.id).where(StudentRetention.student_id.is_(None))).first()
    if missing:
        click.echo(_("보존 기한이 아직 계산되지 않은 학생이 있습니다: 'flask retention refresh'를 먼저 실행하세요."))
    rows = _due_rows(today)
    for uid, school, rule, until in rows:
        click.echo(f"{uid}\t{school}\t{RULE_WORDS.get(rule, rule)}\t{until.isoformat()}")
    click.echo(_("%(n)d명이 다음 실행에서 삭제됩니다.", n=len(rows)))


@retention.command("refresh")
@with_appcontext
def refresh():
    """보존 기한이 없는 (이 기능 이전의) 학생의 기한을 계산."""
    click.echo(_("%(n)d명의 보존 기한을 계산했습니다.", n=refresh_missing()))


@retention.command("run")
@with_appcontext
def run():
    """매일 실행: 보존 기한이 지나고 보존 연장이 없는 학생을 모든 기능에서 삭제(학생마다 한 트랜잭션)."""
    today = today_kst()
    refreshed = refresh_missing()
    holds_ended = end_lapsed_holds(today)
    db.session.commit()
    ids = db.session.execute(due_query(today)).scalars().all()
    removed, rows, failed = 0, 0, []
    with click.progressbar(ids, label=_("보존 기한이 지난 학생 삭제"), show_pos=True) as bar:
        for student_id in bar:
            try:
                tombstone = remove_student(student_id, today)
                db.session.commit()  # one student at a time: all of them or nothing of them
            except Exception as error:  # noqa: BLE001 - one student's failure must not stop the others
                db.session.rollback()
                failed.append(type(error).__name__)  # the class only: a message may hold values
                continue
            if tombstone is not None:
                removed += 1
                rows += sum(v for k, v in tombstone.counts.items() if k != "audit_event")
    record("retention_run", object_type="retention", actor=None,
           details={"removed": removed, "rows": rows, "due": len(ids), "failed": len(failed),
                    "errors": sorted(set(failed)), "holds_ended": holds_ended, "refreshed": refreshed,
                    "day": today.isoformat()})
    db.session.commit()
    click.echo(_("%(n)d명 삭제 (보존 연장 종료 %(h)d건)", n=removed, h=holds_ended))
    if failed:
        # the failed students stay whole and are tried again by the next run
        raise click.ClickException(_("%(n)d명은 삭제하지 못했습니다 (%(errors)s).", n=len(failed),
                                     errors=", ".join(sorted(set(failed)))))


def register_cli(app) -> None:
    """Add ``flask retention``."""
    app.cli.add_command(retention)
