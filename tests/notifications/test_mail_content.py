"""No content in any e-mail: every mail template may use only the names mail_messages.py allows
(the kind of alert, the sender's organisation, a deadline, links), checked on the parsed template;
and alerts of many kinds, made through the real services about a student with a distinctive name,
need and free texts, reach the mailbox without any of them, nor the alert's own text."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from jinja2 import meta, nodes
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies.referral_alerts import escalate_overdue
from app.auth.models import User
from app.cases.plan import add_plan_action
from app.conferences.services import schedule_conference
from app.db import today_kst, utcnow
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.assignments import accept_assignment, propose_assignment, request_end
from app.guardians.concerns import acknowledge_concern, escalate_concern
from app.guardians.models import GuardianConcern
from app.guardians.services import create_guardian_login
from app.notifications import mail_messages
from app.notifications.mail_worker import deliver_due
from app.notifications.models import Notification
from tests.factories import DEFAULT_PASSWORD, approve_login, consent_both

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates" / "mail"
#: what a template may call besides the allowed names: translation
TRANSLATION = frozenset({"_", "gettext", "ngettext"})
#: filters that format a value; none of them can reach an attribute (``attr``, ``map`` … can)
SAFE_FILTERS = frozenset({"kdate", "kdatetime", "kshort", "e", "escape", "upper", "lower", "trim", "default", "d",
                          "length", "count", "string", "wordwrap", "indent", "center"})
#: words that must never become a template name (a guard against widening ALLOWED_NAMES)
CONTENT_WORDS = {"text", "name", "student", "need", "needs", "notification", "note", "description", "reason",
                 "summary", "notes", "case", "user", "address", "body", "message"}


def violations(env, source: str) -> list[str]:
    """Everything in a template that could show something other than the allowed fields."""
    tree = env.parse(source)
    found = [f"name {n}" for n in sorted(meta.find_undeclared_variables(tree) - mail_messages.ALLOWED_NAMES
                                         - TRANSLATION)]
    loop_names = set()
    for loop in tree.find_all(nodes.For):
        if not (isinstance(loop.iter, nodes.Name) and loop.iter.name == "items"):
            found.append("a loop over something other than items")
        targets = [loop.target] if isinstance(loop.target, nodes.Name) else list(loop.target.find_all(nodes.Name))
        loop_names |= {t.name for t in targets}
    for node in tree.find_all(nodes.Getattr):
        if not (isinstance(node.node, nodes.Name) and node.node.name in loop_names
                and node.attr in mail_messages.ALLOWED_ITEM_FIELDS):
            found.append(f"attribute {node.attr}")
    found += [f"item lookup at line {n.lineno}" for n in tree.find_all(nodes.Getitem)]
    found += [f"filter {n.name}" for n in tree.find_all(nodes.Filter) if n.name not in SAFE_FILTERS]
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name in TRANSLATION):
            found.append(f"call at line {call.lineno}")
    found += [f"{type(n).__name__} at line {n.lineno}" for n in tree.find_all(
        (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Macro, nodes.CallBlock, nodes.Assign))]
    return found


def test_there_are_mail_templates():
    assert {p.name for p in TEMPLATES.glob("*.txt")} >= {"alert.txt", "digest.txt", "verify.txt"}


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*")), ids=lambda p: p.name)
def test_every_mail_template_uses_only_the_allowed_fields(app, path):
    assert violations(app.jinja_env, path.read_text(encoding="utf-8")) == []


def test_the_allowed_fields_name_no_content():
    assert not (mail_messages.ALLOWED_NAMES | mail_messages.ALLOWED_ITEM_FIELDS) & CONTENT_WORDS
    assert {f.name for f in dataclasses.fields(mail_messages.MailItem)} == mail_messages.ALLOWED_ITEM_FIELDS


@pytest.mark.parametrize("source", [
    "{{ student_name }}", "{{ note.text }}", "{{ kind_label.upper() }}", "{{ sender.__class__ }}",
    "{% for item in items %}{{ item.text }}{% endfor %}", "{% for item in items %}{{ item['text'] }}{% endfor %}",
    "{% for item in items %}{{ item|attr('text') }}{% endfor %}", "{{ items|map(attribute='text')|join }}",
    "{% for n in notifications %}{{ n }}{% endfor %}", "{% include 'cases/detail.html' %}", "{{ config.SECRET_KEY }}",
    "{% set x = link %}{{ x }}", "{{ current_user.display_name }}", "{{ _('%(s)s', s=student) }}",
])
def test_the_template_check_catches_content(app, source):
    assert violations(app.jinja_env, source), source


# -- what really reaches a mailbox ------------------------------------------------------------

STUDENT = "독고별하늘"
SECRETS = {
    "name": STUDENT, "given name": STUDENT[2:], "parent": "독고비밀보호", "need": "난독증 정밀진단 필요함",
    "summary": "수업 중 집중이 어렵고 결석이 잦음", "goal": "받아쓰기 스무 문제", "concern": "학생 팔에 멍 자국이 있었습니다",
    "notes": "떡볶이를 함께 먹음", "response": "담임이 보호자와 통화 완료", "reason": "정서 상담이 시급한 사정",
    "end note": "이사 때문에 더는 만날 수 없음", "place": "별관 비밀상담실",
}


def make_alerts(build, eligible_guardian, coordinator, agency_with_service, with_address) -> set[str]:
    """Alerts of many kinds about one student, through the real services; every user has an address."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    staff = build.user("school_staff", organisation=school)
    student = build.student(school, actor=lead, name=STUDENT, parent_name=SECRETS["parent"])
    case = build.case(school=school, status="in_support", student=student, lead=lead,
                      needs=(("learning", SECRETS["need"]),))
    add_plan_action(case, lead, goal=SECRETS["goal"], action="매일 연습", shared_with_guardian=True)
    guardian = eligible_guardian()
    user = create_guardian_login(coordinator, guardian, "guardian-mail", DEFAULT_PASSWORD)
    approve_login(user, coordinator, guardian)
    service = agency_with_service()
    agent = build.user("agency_coordinator", organisation=service.organisation)
    consent_both(case, lead, purposes=("guardian_matching", "agency_referral"),
                 agency_kinds=[service.organisation.agency_kind])
    db.session.commit()
    for person in db.session.execute(select(User).where(User.active.is_(True))).scalars().all():
        with_address(person)
    assignment = propose_assignment(case, guardian, coordinator)  # assignment_proposed
    db.session.commit()
    accept_assignment(assignment, user)
    for description in (SECRETS["concern"], SECRETS["concern"] + " 두 번째"):  # concern
        log_activity(assignment, user, occurred_on=today_kst(), minutes=40, kind="daily_life", notes=SECRETS["notes"],
                     concern=True, concern_description=description)
    first, second = db.session.execute(select(GuardianConcern).order_by(GuardianConcern.id)).scalars()
    acknowledge_concern(first, lead, response=SECRETS["response"])  # concern_acknowledged
    escalate_concern(second)  # concern_overdue
    request_end(assignment, user, SECRETS["end note"])  # assignment_end_requested
    referral = r.create_referral(case, staff, agency=service.organisation, service=service, reason=SECRETS["reason"],
                                 shared_items=["student_name", "needs"])
    r.send_referral(referral, staff)  # referral to the agency
    escalate_overdue(referral, referral.respond_by + dt.timedelta(days=1))  # referral_overdue, both sides
    r.accept_referral(referral, agent)  # referral news to the school, naming the student
    schedule_conference(lead, kind="school_meeting", case_ids=[case.id], participant_user_ids=[staff.id],
                        externals=[], starts_at=dt.datetime.combine(today_kst() + dt.timedelta(days=3), dt.time(15)),
                        place=SECRETS["place"], online_link=None)  # conference
    db.session.commit()
    return {n.kind for n in db.session.execute(select(Notification)).scalars()}


def test_no_student_data_nor_alert_text_reaches_a_mailbox(mail_app, smtp_server, build, eligible_guardian, coordinator,
                                                          agency_with_service, with_address, monkeypatch):
    contexts = []
    real_render = mail_messages.render_template

    def render(template, **context):
        contexts.append((template, context))
        return real_render(template, **context)
    monkeypatch.setattr(mail_messages, "render_template", render)
    kinds = make_alerts(build, eligible_guardian, coordinator, agency_with_service, with_address)
    assert kinds >= {"assignment_proposed", "concern", "concern_acknowledged", "concern_overdue",
                     "assignment_end_requested", "referral", "referral_overdue", "conference"}
    later = utcnow() + dt.timedelta(days=2)  # digests too
    while any(deliver_due(now=later, limit=10).values()):
        pass
    received = smtp_server.messages
    mailed = {row_kind for (_t, c) in contexts for row_kind in _kinds(c)}
    assert len(received) >= len(kinds) and mailed == {str(mail_messages.KINDS[k]) for k in kinds}
    texts = {str(n.text) for n in db.session.execute(select(Notification)).scalars()}
    assert any(STUDENT in t for t in texts)  # the alerts in the app do name the student
    for mail in received:
        for label, secret in SECRETS.items():
            assert secret not in mail.text, (label, mail.subject)
        for alert_text in texts:
            assert alert_text not in mail.text, mail.subject
    for template, context in contexts:
        assert set(context) <= mail_messages.ALLOWED_NAMES, template
        assert all(isinstance(i, mail_messages.MailItem) for i in context.get("items", ())), template


def _kinds(context: dict) -> list[str]:
    return [item.kind_label for item in context["items"]] if "items" in context else [context["kind_label"]]
