"""`flask conferences remind`: the daily reminder of action items and reviews due or overdue."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import User
from ..cases.models import SupportCase
from ..db import today_kst
from ..extensions import db
from ..i18n import date_words
from ..notifications.services import notify, object_key
from ..permissions import AGENCY_COORDINATOR
from .access import FINISHED_CASES, current_reviews, student_labels
from .common import due_message, link, school_team, short_day_message
from .models import ActionItem, Conference, ConferenceCase

#: items and reviews due within this many days are reminded (overdue ones too)
DUE_WITHIN = 3


@click.group("conferences")
def conferences():
    """사례회의 관리 명령."""


def item_recipients(item: ActionItem, case: SupportCase) -> list[User]:
    """Who is reminded of an item: its owner, the agency's coordinators, or the school team."""
    if item.owner_kind == "school_team":
        return school_team(case.school_id)
    if item.owner_kind == "agency":
        return list(db.session.execute(select(User).where(
            User.role == AGENCY_COORDINATOR, User.organisation_id == item.owner_agency_id,
            User.active.is_(True)).order_by(User.id)).scalars())
    user = db.session.get(User, item.owner_user_id) if item.owner_user_id else None
    return [user] if user is not None and user.active else []


def student_for(user: User, case: SupportCase) -> str | None:
    """'<name> 학생' as this reader may see the student (access.student_labels), or None."""
    name = student_labels(user, [case]).get(case.id)
    return _l("%(name)s 학생", name=name) if name else None


def _state(day: dt.date, today: dt.date) -> str:
    return "overdue" if day < today else "due"


def remind_item(item: ActionItem, conference: Conference, case: SupportCase, today: dt.date) -> int:
    """Notify the item's recipients once per state; returns how many were new."""
    state = _state(item.due_on, today)
    day, due = short_day_message(item.due_on), due_message(item.due_on, today)
    sent = 0
    for user in item_recipients(item, case):
        who = student_for(user, case)
        kw = dict(day=day, due=due, what=item.description)
        if state == "overdue":
            body = (_l("사례회의 실행 과제의 기한이 지났습니다 (%(day)s, %(due)s): %(what)s (%(who)s)", who=who, **kw)
                    if who else _l("사례회의 실행 과제의 기한이 지났습니다 (%(day)s, %(due)s): %(what)s", **kw))
        else:
            body = (_l("사례회의 실행 과제의 기한이 다가옵니다 (%(day)s, %(due)s): %(what)s (%(who)s)", who=who, **kw)
                    if who else _l("사례회의 실행 과제의 기한이 다가옵니다 (%(day)s, %(due)s): %(what)s", **kw))
        if notify(user.id, "conference_action", body, link=link(conference), case_id=case.id,
                  dedupe_key=f"ai-{state}:{item.id}:{user.id}", about=object_key("action_item", item)):
            sent += 1
    return sent


def remind_review(cc: ConferenceCase, conference: Conference, case: SupportCase, today: dt.date) -> int:
    """Notify the case's school team once per review and state."""
    state = _state(cc.next_review_on, today)
    kw = dict(name=case.student.name, day=short_day_message(cc.next_review_on),
              due=due_message(cc.next_review_on, today))
    text = (_l("%(name)s 학생 사례의 점검일이 지났습니다 (%(day)s, %(due)s).", **kw) if state == "overdue"
            else _l("%(name)s 학생 사례의 점검일이 다가옵니다 (%(day)s, %(due)s).", **kw))
    return sum(1 for user in school_team(case.school_id)
               if notify(user.id, "conference_review", text, link=link(conference), case_id=case.id,
                         dedupe_key=f"review-{state}:{cc.id}:{user.id}"))


def due_work(today: dt.date) -> list[tuple[str, int]]:
    """(kind, id) of open items and current reviews due within DUE_WITHIN days or overdue."""
    soon = today + dt.timedelta(days=DUE_WITHIN)
    items = db.session.execute(select(ActionItem.id).join(SupportCase, ActionItem.case_id == SupportCase.id).where(
        ActionItem.status == "open", ActionItem.due_on.is_not(None), ActionItem.due_on <= soon,
        SupportCase.status.not_in(FINISHED_CASES))
        .order_by(ActionItem.id)).scalars()
    reviews = db.session.execute(
        select(ConferenceCase.id).join(Conference, ConferenceCase.conference_id == Conference.id)
        .join(SupportCase, ConferenceCase.case_id == SupportCase.id)
        .where(current_reviews(), ConferenceCase.next_review_on <= soon).order_by(ConferenceCase.id)).scalars()
    return [("item", i) for i in items] + [("review", i) for i in reviews]


@conferences.command("remind")
@with_appcontext
def remind():
    """매일 실행: 기한 3일 이내이거나 지난 실행 과제와 점검일을 담당자에게 알림(한 번씩)."""
    today = today_kst()
    work = due_work(today)
    sent = {"item": 0, "review": 0}
    with click.progressbar(work, label=_("사례회의 알림"), show_pos=True) as bar:
        for kind, row_id in bar:
            if kind == "item":
                item = db.session.get(ActionItem, row_id)
                new = remind_item(item, db.session.get(Conference, item.conference_id),
                                  db.session.get(SupportCase, item.case_id), today)
            else:
                cc = db.session.get(ConferenceCase, row_id)
                new = remind_review(cc, cc.conference, cc.case, today)
            sent[kind] += new
            db.session.commit()  # one at a time: a stopped run resumes where it was
    if sent["item"] or sent["review"]:
        record("conference_reminders_sent", actor=None, details={"on": today.isoformat(), **sent})
        db.session.commit()
    click.echo(_("%(day)s: 확인 %(work)d건, 실행 과제 알림 %(items)d건, 점검일 알림 %(reviews)d건", day=date_words(today),
                 work=len(work), items=sent["item"], reviews=sent["review"]))


def register_cli(app) -> None:
    app.cli.add_command(conferences)
