"""The second state of the fuzz world (issue 19): objects in the states that show the forms the
route matrix's world (tests/test_route_matrix.py ``mworld``) does not, all put there through the
app's own services, and the pages that show those forms.

``add_states(w, build, app)`` adds them to the world before it is snapshotted
(tests/fuzz_helpers.py); ``PAGES`` are the extra pages discovery opens (tests/fuzz_discovery.py)
and the POST routes each is opened for: those are fuzzed with the fields found there, at the URL
the form posts to (its object in that state), as who opened the page (``Fuzz.target``)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import g, url_for

from app.admin.organisations import deactivate_organisation
from app.admin.services import deactivate_account
from app.agencies import referrals as r
from app.auth import totp
from app.auth.models import User
from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from app.guardians.assignments import propose_assignment, suspend_assignment
from app.guardians.models import CHECK_KINDS
from app.notifications.mail_outbox import confirm_address, request_address
from app.records.request_services import record_request

from .factories import DEFAULT_PASSWORD, consent_both
from .guardians.conftest import guardian_fields, make_eligible_guardian
from .guardians.portal_setup import matched
from .route_table import ROUTES, A, D, G, L, M, S, U

#: (role or CLIENTS name, GET route key, {URL argument: world attribute}, POST endpoints): pages
#: discovery opens after the table's own, each with the forms it is opened for; those routes are
#: fuzzed at the URL the form posts to, as who opened the page (discovery fails if one is missing)
PAGES: list[tuple[str, str, dict, tuple]] = [
    ("totp_pending", "GET auth.login_code", {}, ("auth.login_code",)),
    ("totp_signed_in", "GET auth.totp_recovery_codes", {}, ("auth.totp_recovery_codes",)),
    ("totp_signed_in", "GET auth.totp_disable", {}, ("auth.totp_disable",)),
    (L, "GET cases.view", {"uid": "screening_case"}, ("cases.select", "cases.not_select")),
    (L, "GET cases.view", {"uid": "closed_case"}, ("cases.reopen",)),
    (S, "GET cases.view", {"uid": "closed_case"}, ("cases.record_satisfaction_view",)),
    (S, "GET cases.view", {"uid": "requested_case"}, ("cases.withdraw_request",)),
    (S, "GET cases.view", {"uid": "private_case"}, ("cases.escalate",)),  # no escalation open
    (S, "GET agencies.referral", {"uid": "sendable_draft"}, ("agencies.send_referral",)),
    (A, "GET agencies.inbox_referral", {"uid": "waiting_referral"},
     ("agencies.inbox_accept", "agencies.inbox_decline")),
    (A, "GET agencies.inbox_referral", {"uid": "serving_referral"}, ("agencies.inbox_outcome",)),
    (L, "GET records.subject_request", {"uid": "correction_request"}, ("records.correct_subject_request",)),
    (L, "GET records.transfer", {"uid": "transfer_in"}, ("records.accept_transfer", "records.return_transfer")),
    (S, "GET conferences.view", {"uid": "item_conference"}, ("conferences.action_status",)),
    (D, "GET guardians.detail", {"uid": "applicant"},
     ("guardians.check_result", "guardians.create_login", "guardians.vet_activate")),
    (D, "GET guardians.detail", {"uid": "login_guardian"}, ("guardians.handling_approve",)),
    (D, "GET guardians.manage", {"uid": "suspended_assignment"}, ("guardians.reactivate",)),
    (G, "GET guardians.portal", {}, ("guardians.accept", "guardians.decline")),  # the proposal
    (M, "GET admin.user", {"uid": "fresh_user"}, ("admin.approve",)),
    (M, "GET auth.handling_user", {"uid": "fresh_user"}, ("auth.handling_approve",)),
    (M, "GET admin.user", {"uid": "off_user"}, ("admin.reactivate",)),
    (M, "GET admin.user", {"uid": "locked_user"}, ("admin.unlock",)),
    (M, "GET admin.user", {"uid": "totp_user"}, ("admin.reset_totp",)),
    (M, "GET admin.organisation", {"uid": "closed_school"}, ("admin.reactivate_organisation",)),
    (U, "GET notifications.settings", {}, ("notifications.remove_mail_address",)),  # a verified address
]


def _pending(app, w):
    """A browser where ``totp_user``'s password was accepted and the second step waits."""
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": w.totp_user.login, "password": DEFAULT_PASSWORD})
    db.session.rollback()
    assert response.status_code == 302 and "/login/code" in response.headers["Location"], response.status_code
    return client


def _signed_in(app, w):
    """A browser signed in as ``totp_user`` with a code of the app (the oldest step still unused:
    a code is good once, and each copy of the world starts from the enrolment's step)."""
    client = _pending(app, w)
    user = db.session.get(User, w.totp_user.id)
    now = totp.current_step()
    step = next(s for s in range(now - totp.WINDOW, now + totp.WINDOW + 1)
                if user.totp_last_step is None or s > user.totp_last_step)
    response = client.post("/login/code", data={"code": totp.code_for_step(user.totp_secret, step)})
    db.session.rollback()
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


#: browsers other than the table's users (tests/fuzz_helpers.Fuzz.client): name -> maker(app, world)
CLIENTS = {"totp_pending": _pending, "totp_signed_in": _signed_in}


def page_url(app, w, key: str, args: dict) -> str:
    """The URL of GET route ``key`` with its object arguments taken from ``args`` first."""
    route = ROUTES[key]
    values = {name: getattr(w, attr).uid for name, attr in {**route.args, **args}.items()}
    with app.test_request_context():
        return url_for(key.split(" ")[1], **values, **route.fixed)


def add_states(w, build, app) -> None:
    """Objects in the states that show the missing forms, through the services, committed."""
    lead, staff, coordinator, agent = w.lead, w.staff, w.coordinator, w.agent
    # cases of the world's school at the steps of their lifecycle
    w.screening_case = build.case(school=w.school, status="screening", lead=lead)
    w.closed_case = build.case(school=w.school, status="closed", lead=lead)
    w.requested_case = build.case(school=w.school, status="requested", lead=lead)

    # referrals to the world's agency: a draft with consent, one sent, one in service
    def referral(sent: bool = False, serving: bool = False):
        case = build.case(school=w.school, status="in_support", lead=lead)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=[w.agency.agency_kind])
        made = r.create_referral(case, staff, agency=w.agency, service=w.service, reason="학습 상담",
                                 shared_items=["needs"])
        db.session.commit()
        if sent or serving:
            r.send_referral(made, staff)
            db.session.commit()
        if serving:
            r.accept_referral(made, agent)
            r.start_service(made, agent)
            db.session.commit()
        return made
    w.sendable_draft, w.waiting_referral, w.serving_referral = referral(), referral(sent=True), referral(serving=True)

    # a 정정 request about the private case's student
    w.correction_request = record_request(lead, w.private_case.student, kind="correction", requested_by="parent",
                                          requested_on=today_kst(), identity_method="parent_record",
                                          correction_asked="보호자 연락처 정정")
    db.session.commit()

    # guardians: an applicant with a pending record check and no login; one whose login waits for
    # approval; a suspended assignment; a proposal to the world's guardian
    w.applicant = gs.register_guardian(coordinator, guardian_fields(build))
    requested = today_kst() - dt.timedelta(days=2)
    w.pending_check = gs.record_check_request(coordinator, w.applicant, next(iter(CHECK_KINDS)),
                                              requested - dt.timedelta(days=1), requested)
    w.login_guardian = gs.register_guardian(coordinator, guardian_fields(build))
    gs.create_guardian_login(coordinator, w.login_guardian, "fuzz-guardian-login", "Guardian-pass-2026!")
    db.session.commit()
    pair = matched(build, lambda: make_eligible_guardian(build, coordinator), coordinator, school=w.school)
    suspend_assignment(pair.assignment, coordinator, "other")
    db.session.commit()
    w.suspended_assignment = pair.assignment
    proposal_case = build.case(school=w.school, status="in_support", lead=lead)
    w.proposed_assignment = propose_assignment(proposal_case, w.guardian, coordinator)
    db.session.commit()

    # accounts (of the other school): not yet approved, deactivated, locked, with a second factor
    # (also the one signed in by CLIENTS, for the second-factor forms)
    w.fresh_user = build.user("school_staff", organisation=w.other_school, cleared=False)
    w.off_user = build.user("school_staff", organisation=w.other_school)
    deactivate_account(w.off_user, w.admin, "퇴직")
    w.locked_user = build.user("school_staff", organisation=w.other_school)
    w.totp_user = build.user("school_staff", organisation=w.other_school)
    totp.start_enrolment(w.totp_user)
    totp.confirm_enrolment(w.totp_user, totp.code_for_step(w.totp_user.totp_secret, totp.current_step()))
    db.session.commit()
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):  # wrong passwords lock the login
        g.pop("_login_user", None)
        client.post("/login", data={"login": w.locked_user.login, "password": "not-the-password"})
        db.session.rollback()
    g.pop("_login_user", None)

    # a deactivated school (no accounts)
    w.closed_school = build.school()
    deactivate_organisation(w.admin, w.closed_school)
    db.session.commit()

    # the auditor's verified mail address (the link opened as the mail would have it)
    mail = {"MAIL_HOST": "localhost", "MAIL_SENDER": "ieum@example.com"}
    saved = {name: app.config.get(name) for name in mail}
    app.config.update(mail)
    try:
        with app.test_request_context():
            link = request_address(w.auditor, "auditor@example.com").link
            confirm_address(w.auditor, urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1])
            db.session.commit()
    finally:
        app.config.update(saved)
