"""The transfer world: an old school in 마포구 (서부 office) and a new school in 강남구 (강남서초
office), each with a lead, a staff member and its office's coordinator; a third 마포구 school; an
open case at the old school, optionally with both consents to "transfer".  All through the real
services, committed."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g

from app.extensions import db
from app.records.transfer_services import send_transfer

from ..factories import DEFAULT_PASSWORD, consent_both


def make_world(build, *, consent: bool = True, status: str = "in_support"):
    old = build.school(name="망원전출초등학교")
    new = build.school(gu="강남구", name="대치전입초등학교")
    third = build.school(name="성산제삼초등학교")
    w = SimpleNamespace(old=old, new=new, third=third)
    w.old_lead = build.user("school_lead", organisation=old, display_name="김보냄")
    w.old_staff = build.user("school_staff", organisation=old, display_name="이담임")
    w.new_lead = build.user("school_lead", organisation=new, display_name="박받음")
    w.new_staff = build.user("school_staff", organisation=new, display_name="최상담")
    w.third_lead = build.user("school_lead", organisation=third)
    w.old_coord = build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))
    w.new_coord = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    w.case = build.case(school=old, status=status, lead=w.old_lead)
    w.student = w.case.student
    if consent:
        consent_both(w.case, w.old_lead, purposes=("transfer",))
    db.session.commit()
    return w


def send(w, to=None, **kw):
    """Send ``w.case`` to ``to`` (default the new school) as the old lead, committed."""
    transfer = send_transfer(w.case, w.old_lead, to_school=to or w.new, note=kw.get("note", "상담 이력 있음"),
                             contact=kw.get("contact", "02-300-1234"))
    db.session.commit()
    return transfer


@pytest.fixture
def world(build):
    return make_world(build)


@pytest.fixture
def bare_world(build):
    """No consent to transfer: only the fact of a case and the contact travel."""
    return make_world(build, consent=False)


def client_for(app, user):
    """A new client signed in as ``user``."""
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
