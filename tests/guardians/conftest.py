"""Guardian builders: a registered guardian, and an eligible one with both checks clear."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from app.auth.models import Gu
from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from app.guardians.models import CHECK_KINDS
from tests.factories import approve_login

_counter = itertools.count(1)


def guardian_fields(build, **fields) -> dict:
    """Valid register_guardian fields (마포구, learning experience, two weekday slots)."""
    n = next(_counter)
    data = {"name": f"이후견{n}", "phone": "010-2222-3333", "address": "서울 마포구 월드컵로 1",
            "birth_date": dt.date(1965, 5, 5), "gu_id": build.gu("마포구").id, "dong": "망원1동",
            "gender": "female", "languages": [], "experience": ["learning"], "availability": ["mon_pm", "wed_pm"],
            "capacity": 2, "training_hours": 30, "conflict_school_ids": []}
    if "gu" in fields:
        fields["gu_id"] = build.gu(fields.pop("gu")).id
    data.update(fields)
    return data


@pytest.fixture
def coordinator(build):
    """A district coordinator of 서부교육지원청 (마포구 is in it)."""
    return build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))


@pytest.fixture
def make_guardian(build, coordinator):
    """``make_guardian(office_user=None, status="applicant", **fields)``: registered through the service."""
    def _make(office_user=None, status: str = "applicant", **fields):
        actor = office_user or coordinator
        fields.setdefault("gu_id", _default_gu(build, actor, fields))
        guardian = gs.register_guardian(actor, guardian_fields(build, **fields))
        path = ["screening", "trained", "active"]
        for step in path[:path.index(status) + 1] if status in path else []:
            gs.change_guardian_status(actor, guardian, step)
        db.session.commit()
        return guardian
    return _make


def _default_gu(build, actor, fields) -> int:
    """마포구 for its office, otherwise the first 자치구 of the actor's office."""
    if "gu" in fields:
        return build.gu(fields.pop("gu")).id
    mapo = build.gu("마포구")
    if actor.organisation.office_code == mapo.office_code:
        return mapo.id
    return db.session.execute(select(Gu).filter_by(office_code=actor.organisation.office_code)
                              .order_by(Gu.id)).scalars().first().id


def make_eligible_guardian(build, actor, checked_on: dt.date | None = None, login: str | None = None,
                           password: str = "Guardian-pass-2026!", **fields):
    """An active, trained guardian of ``actor``'s office with both record checks clear (checked
    ``checked_on``, default 30 days ago), through the real services; with ``login`` also their
    account, returned as ``(guardian, user)``."""
    fields.setdefault("gu_id", _default_gu(build, actor, fields))
    guardian = gs.register_guardian(actor, guardian_fields(build, **fields))
    checked_on = checked_on or today_kst() - dt.timedelta(days=30)
    for kind in CHECK_KINDS:
        check = gs.record_check_request(actor, guardian, kind, checked_on - dt.timedelta(days=3),
                                        checked_on - dt.timedelta(days=2))
        gs.record_check_result(actor, check, "clear", checked_on, f"REF-{kind}-{guardian.id}")
    for step in ("screening", "trained", "active"):
        gs.change_guardian_status(actor, guardian, step)
    user = gs.create_guardian_login(actor, guardian, login, password) if login else None
    if user is not None:
        user.password_temporary = False  # as if the guardian had already chosen their own
        approve_login(user, actor, guardian)  # logins start unapproved: the coordinator approves them
    db.session.commit()
    return (guardian, user) if login else guardian


@pytest.fixture
def eligible_guardian(build, coordinator):
    """``eligible_guardian(office_user=None, checked_on=None, **fields) -> Guardian``: active, trained,
    both record checks clear (checked ``checked_on``, default 30 days ago), in ``office_user``'s office
    (default: the ``coordinator`` fixture, 서부 / 마포구)."""
    def _make(office_user=None, checked_on: dt.date | None = None, **fields):
        return make_eligible_guardian(build, office_user or coordinator, checked_on, **fields)
    return _make
