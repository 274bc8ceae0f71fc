"""``flask demo scale``: a reproducible Seoul-scale data set (DESIGN.md "Performance targets"),
built through the app's own encrypted field types, blind indexes and audit chain, in bulk.

Phases run in order, each in its own transaction (the audit trail commits every 500,000 events),
with a progress bar: organisations and users, students and cases, guardians, referrals,
conferences, notifications, the audit trail, then ``ANALYZE`` and the logins file."""
from __future__ import annotations

import time
from typing import Callable

import click
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from ...audit.models import AuditEvent
from ...audit.review_totals import settled_months_to_store, store_month
from ...audit.services import record
from ...auth.models import Organisation, User
from ...auth.services import check_password_policy
from ...conferences.reviews import rebuild_reviews
from ...db import keyring, today_kst, utcnow
from ...extensions import db
from ...i18n import N_
from .build import Build

#: a database "has data" when any of these has a row (the migrations add offices, never these)
DATA_CHECKS = ((User, None), (Organisation, Organisation.kind.in_(("school", "agency"))), (AuditEvent, None))


class ScaleError(RuntimeError):
    """The build cannot start; the message is for the operator (in the default language)."""


def has_data(session) -> bool:
    for model, where in DATA_CHECKS:
        query = select(func.count()).select_from(model)
        if where is not None:
            query = query.where(where)
        if session.execute(query.limit(1)).scalar():
            return True
    return False


def phases():
    from . import audit, cases, conferences, guardians, notices, orgs, referrals, users
    return [
        (N_("학교"), lambda b: b.n("schools", 4), orgs.schools),
        (N_("유관기관"), lambda b: b.n("agencies", 10), orgs.agencies),
        (N_("사용자"), lambda b: len(b.schools) + len(b.agencies) + len(b.offices) + 3, users.build_users),
        (N_("학생·사례"), lambda b: b.n("students", 20), cases.build_cases),
        (N_("교육후견인"), lambda b: b.n("guardians", 10), guardians.build_guardians),
        (N_("기관 의뢰"), lambda b: len(b.cases), referrals.build_referrals),
        (N_("사례회의"), lambda b: b.n("conferences", 5), conferences.build_conferences),
        (N_("알림"), lambda b: len(b.users), notices.build_notifications),
        (N_("접속기록"), lambda b: b.n("audit_events", len(b.lifecycle) + 100), audit.build_audit),
    ]


def _store_review_months(session) -> None:
    """What the hourly `flask audit summarise` would have stored by now: each ended month's
    access-review figures (the review of last month reads them, as in a running deployment)."""
    months = settled_months_to_store()
    with click.progressbar(length=max(1, len(months)), label=f"{_('접속기록 점검 집계'):<8}", show_pos=True) as bar:
        for first in months:
            store_month(first)
            session.commit()
            bar.update(1)


def build(scale: float, seed: int, password: str, echo: Callable[[str], None] = click.echo) -> Build:
    """Build everything; returns the finished Build (counts, chain, logins)."""
    from . import logins, orgs
    session = db.session
    if has_data(session):
        raise ScaleError(_("데이터베이스에 이미 데이터(사용자·학교·기관·접속기록)가 있습니다. "
                           "규모 데이터는 빈 데이터베이스(flask db upgrade 직후)에만 만들 수 있습니다."))
    check_password_policy(password, "", "")  # before anything is written (phases commit one by one)
    now = utcnow()
    b = Build(scale=scale, seed=seed, password=password, conn=session.connection(), ring=keyring(),
              session=session, now=now, today=today_kst())
    b.tune()
    orgs.load_reference(b)
    timings = {}
    for label, size, run in phases():
        started = time.monotonic()
        with click.progressbar(length=max(1, size(b)), label=f"{_(label):<8}", show_pos=True,
                               show_percent=True) as bar:
            run(b, bar.update)
        b.commit()
        timings[label] = time.monotonic() - started
    rebuild_reviews()  # each case's current review, derived from the conference rows written above
    session.commit()
    if b.conn.dialect.name == "postgresql":  # ids were chosen here: move each sequence past them
        for table in [rows.table for rows in b.writer.tables.values()] + [AuditEvent.__table__]:
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"(SELECT MAX(id) FROM {table.name}))"))
        session.commit()
    echo(_("통계 정보 갱신 (ANALYZE) …"))
    started = time.monotonic()
    session.execute(text("ANALYZE"))
    record("demo_scale_built", object_type="database", object_id=f"scale-{scale:g}",
           details={"scale": scale, "seed": seed})
    session.commit()
    timings["ANALYZE"] = time.monotonic() - started
    started = time.monotonic()
    _store_review_months(session)
    timings[_("접속기록 점검 집계")] = time.monotonic() - started
    b.timings = timings
    b.logins = logins.write(b)
    return b
