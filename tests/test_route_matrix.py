"""The route × role matrix (issue 18): every route of ``app.url_map`` is declared once in
tests/route_table.py, and every role (and a signed-out visitor) is tried on every route.

* not allowed: 403 or 404, a ``permission_denied`` event of that user, and nothing else written
  (no other audit event, no row added or removed in any table); signed out: a redirect to /login
  and nothing written;
* allowed: neither 403, 404 nor 500 (a POST carries an empty form, so a 400 is fine);
* an object route: a same-role user of another school, office, agency or guardian gets the
  declared answer (404: the object is out of their scope), audited, nothing written.
"""
from __future__ import annotations

import ast
import datetime as dt
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import g, url_for
from sqlalchemy import func, select, text

from app.audit.models import AuditEvent
from app.cases import notes as case_notes
from app.cases.models import Consent
from app.cases.plan import add_plan_action
from app.conferences import services as cs
from app.conferences.models import ActionItem
from app.db import today_kst
from app.extensions import db
from app.notifications.services import notify

from .agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from .conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from .factories import DEFAULT_PASSWORD, consent_both
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .guardians.conftest import make_eligible_guardian
from . import route_table
from .route_table import ANON, FINDINGS, LAST, ROUTES, A, D, G, L, M, S, U
from .test_view_audit import AUDITED, NO_PERSONAL_DATA, sign_in
from .test_view_audit import world  # noqa: F401  (fixture)

DENIED = "permission_denied"
#: the in-scope user of each role (a world attribute), and the same role elsewhere
USERS = {S: "staff", L: "lead", D: "coordinator", G: "guardian_user", A: "agent", U: "auditor", M: "admin"}
FOREIGN = {S: "other_staff", L: "other_lead", D: "other_coordinator", G: "other_guardian_user", A: "other_agent"}
#: tables written by every request whatever its answer (none today)
VOLATILE: set[str] = set()


def app_routes(app) -> set[str]:
    return {f"{method} {rule.endpoint}" for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods & {"GET", "POST"}}


def test_every_route_is_declared_once(app):
    routes = app_routes(app)
    assert not routes - set(ROUTES), f"routes missing from tests/route_table.py: {sorted(routes - set(ROUTES))}"
    assert not set(ROUTES) - routes, f"declared routes that no longer exist: {sorted(set(ROUTES) - routes)}"
    for key, route in ROUTES.items():
        assert route.roles, key
        assert route.roles <= set(USERS) | {ANON}, key
    # a dict literal keeps the last of two equal keys silently: read the source for duplicates
    source = ast.parse(Path(route_table.__file__).read_text(encoding="utf-8"))
    table = next(node.value for node in source.body if isinstance(node, ast.AnnAssign)
                 and getattr(node.target, "id", "") == "ROUTES")
    keys = [key.value for key in table.keys]
    assert not [k for k in keys if keys.count(k) > 1], "a route is declared twice in tests/route_table.py"


def test_the_personal_data_flag_agrees_with_the_view_audit():
    """A GET route shows personal data exactly when tests/test_view_audit.py audits its view."""
    wrong = [key for key, route in ROUTES.items() if key.startswith("GET ")
             and route.personal != (key[4:] in AUDITED)]
    assert not wrong, f"personal flag differs from test_view_audit.AUDITED: {wrong}"
    assert not {key[4:] for key in ROUTES if key.startswith("GET ")} & set(AUDITED) & set(NO_PERSONAL_DATA)


@pytest.fixture
def mworld(world, build, make_conference):  # noqa: F811  (fixtures imported above)
    """The view-audit world plus the other objects the POST routes name and, for each scoped
    role, a same-role user of another school, office, agency or guardian."""
    w = world
    w.student = w.referral_case.student
    w.need = w.referral_case.needs[0]
    w.escalation = case_notes.escalate_case(w.referral_case, w.staff, reason="학교만으로 어려움")
    w.plan_action = add_plan_action(w.referral_case, w.staff, goal="출석 안정", action="주 1회 상담")
    db.session.commit()
    # a consent the school may withdraw without touching the cases the conferences rely on
    w.spare_case = build.case(school=w.school, status="planning", lead=w.lead)
    consent_both(w.spare_case, w.lead, purposes=("guardian_matching",))
    db.session.commit()
    w.consent = db.session.execute(select(Consent).where(Consent.case_id == w.spare_case.id)).scalars().first()
    # a recorded conference with an action item of the school team on the referral case
    w.item_conference = make_conference(started=True)
    soon = today_kst() + dt.timedelta(days=5)
    cs.record_meeting(w.item_conference, w.lead, attended_participant_ids=[], minutes="회의록", decisions={
        w.guardian_case.id: dict(decision="continue", note="", next_review_on=None, actions=[]),
        w.referral_case.id: dict(decision="continue", note="", next_review_on=soon, actions=[
            dict(description="학교 회의", owner_kind="school_team", due_on=soon)])})
    db.session.commit()
    w.item = db.session.execute(select(ActionItem).where(
        ActionItem.conference_id == w.item_conference.id)).scalars().one()
    w.check = w.guardian.checks[0]
    w.note = notify(w.staff.id, "referral", "의뢰 알림")
    db.session.commit()
    w.spare_school = build.school()
    w.spare_user = build.user("school_staff", organisation=w.other_school)
    w.other_staff = build.user("school_staff", organisation=w.other_school)
    w.other_coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    w.other_agent = build.user("agency_coordinator")
    _guardian, w.other_guardian_user = make_eligible_guardian(build, w.coordinator, login="other-guardian-1",
                                                              password=DEFAULT_PASSWORD)
    return w


def _url(app, w, key: str) -> str:
    method, endpoint = key.split(" ")
    route = ROUTES[key]
    args = {name: getattr(w, attr).uid for name, attr in route.args.items()}
    with app.test_request_context():
        return url_for(endpoint, **args, **route.fixed)


def _order(keys):
    """Sorted, with the routes that end or change the session last."""
    return sorted(keys, key=lambda k: (k in LAST, LAST.index(k) if k in LAST else 0, k))


#: tables counted before and after every refused request
def _counter():
    names = [t.name for t in db.metadata.sorted_tables if t.name not in VOLATILE and t.name != "audit_event"]
    query = text("SELECT " + ", ".join(f'(SELECT count(*) FROM "{n}")' for n in names))

    def snapshot() -> dict:
        return dict(zip(names, db.session.execute(query).one()))
    return snapshot


def _last_event_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()


class Matrix:
    """One signed-in client per user; one request per cell; the problems found."""

    def __init__(self, app, w):
        self.app, self.w, self.clients, self.problems = app, w, {}, []
        self.snapshot = _counter()
        self.urls = {key: _url(app, w, key) for key in ROUTES}
        self.answers: Counter = Counter()

    def client(self, who: str | None):
        if who not in self.clients:
            self.clients[who] = self.app.test_client() if who is None else sign_in(self.app, getattr(self.w, who))
        return self.clients[who]

    def request(self, key: str, who: str | None):
        method = key.split(" ")[0]
        client = self.client(who)
        g.pop("_login_user", None)
        url = self.urls[key]
        try:
            response = client.post(url, data={}) if method == "POST" else client.get(url)
        except Exception as error:  # noqa: BLE001  TESTING propagates what would be a 500
            db.session.rollback()
            return SimpleNamespace(status_code=500, headers={}, error=f"{type(error).__name__}: {error}"[:200])
        db.session.rollback()
        return response

    def allowed(self, key: str, role: str, who: str | None):
        response = self.request(key, who)
        self.answers[("allowed", response.status_code)] += 1
        location = response.headers.get("Location", "")
        if response.status_code in (403, 404) or response.status_code >= 500:
            self.report(key, role, who, f"allowed, but answered {response.status_code}"
                                        f"{' (' + response.error + ')' if hasattr(response, 'error') else ''}")
        elif who is not None and key != "POST auth.logout" and ("/login" in location or "/clearance" in location):
            # the client lost its session or clearance: every later cell of this user would lie
            self.report(key, role, who, f"allowed, but sent to {location}")

    def refused(self, key: str, role: str, who: str | None, expected=(403, 404)):
        self.client(who)  # signed in before counting: the sign-in writes its own event
        before, counts = _last_event_id(), self.snapshot()
        response = self.request(key, who)
        self.answers[("refused", response.status_code)] += 1
        events = list(db.session.execute(select(AuditEvent).where(AuditEvent.id > before)).scalars())
        after = self.snapshot()
        changed = {n: (counts[n], after[n]) for n in counts if counts[n] != after[n]}
        if who is None:
            location = response.headers.get("Location", "")
            if response.status_code not in (302, 303) or "/login" not in location:
                self.report(key, role, who, f"signed out: expected a redirect to /login, got "
                                            f"{response.status_code} {location}")
        else:
            user = getattr(self.w, who)
            if response.status_code not in expected:
                self.report(key, role, who, f"expected {'/'.join(map(str, expected))}, got {response.status_code}"
                                            f"{' (' + response.error + ')' if hasattr(response, 'error') else ''}")
            elif not any(e.action == DENIED and e.outcome == "denied" and e.actor_id == user.id for e in events):
                self.report(key, role, who, f"{response.status_code} without a {DENIED} event")
        others = [e.action for e in events if e.action != DENIED]
        if others or changed:
            self.report(key, role, who, f"refused, but wrote: events {others}, rows {changed}")

    def report(self, key: str, role: str, who: str | None, problem: str):
        finding = FINDINGS.get((key, role))
        self.problems.append(f"{key} as {role} ({who or 'signed out'}): {problem}"
                             + (f"  [known finding: {finding}]" if finding else ""))


def test_every_role_against_every_route(app, mworld):
    """Every role (in scope) and a signed-out visitor on every route: allowed or refused as declared."""
    matrix = Matrix(app, mworld)
    cells = 0
    for key in _order(ROUTES):
        route = ROUTES[key]
        for role in [*USERS, ANON]:
            who = USERS.get(role)
            cells += 1
            if role in route.roles:
                matrix.allowed(key, role, who)
            else:
                matrix.refused(key, role, who)
    assert cells == len(ROUTES) * (len(USERS) + 1)
    print("answers:", sorted(matrix.answers.items()))
    assert not matrix.problems, f"{len(matrix.problems)} of {cells} cells wrong:\n" + "\n".join(matrix.problems)


def test_objects_out_of_scope_are_not_found(app, mworld):
    """A same-role user of another school, office, agency or guardian on every object route the
    role may use: the declared answer (404 for cases, students, referrals, conferences, guardians,
    assignments and concerns), audited, nothing written."""
    matrix = Matrix(app, mworld)
    cells = 0
    for key in _order(ROUTES):
        route = ROUTES[key]
        if route.foreign is None:
            continue
        for role in sorted(route.roles & set(FOREIGN)):
            cells += 1
            matrix.refused(key, role, FOREIGN[role], expected=(route.foreign,))
    assert cells > 60
    print("answers:", sorted(matrix.answers.items()))
    assert not matrix.problems, f"{len(matrix.problems)} of {cells} cells wrong:\n" + "\n".join(matrix.problems)
