"""Every route of the app, declared once: who may use it, whether it shows personal data, and
which object of the test world (tests/test_route_matrix.py) its URL names.

Key: "METHOD endpoint".  ``Route.roles``: the roles that may use it (ANON: signed out).  ``args``:
URL argument -> world attribute (its ``uid`` goes in the URL); ``fixed``: literal URL arguments.
``scope``: what the object is; for the scoped kinds a same-role user of another school, office,
agency or guardian gets ``foreign`` (404: "not found", the object out of their scope).
A cell the app gets wrong today is marked ``# FINDING`` and listed in FINDINGS."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.permissions import (ADMIN, AGENCY_COORDINATOR, AUDITOR, DISTRICT_COORDINATOR, GUARDIAN, ROLES, SCHOOL_LEAD,
                             SCHOOL_STAFF)

S, L, D, G, A, U, M = SCHOOL_STAFF, SCHOOL_LEAD, DISTRICT_COORDINATOR, GUARDIAN, AGENCY_COORDINATOR, AUDITOR, ADMIN
ANON = "anonymous"
ALL = frozenset(ROLES)
SCHOOL = frozenset({S, L})
READERS = frozenset({S, L, D})
ANYONE = ALL | {ANON}
#: scopes where a same-role user elsewhere must not find the object (an audited 404)
SCOPED = ("case", "student", "referral", "conference", "guardian", "assignment", "concern", "inbox")


@dataclass(frozen=True)
class Route:
    roles: frozenset
    personal: bool
    scope: str | None = None
    args: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    #: what a same-role user of another organisation gets (None: not checked)
    foreign: int | None = None

    def __post_init__(self):
        if self.foreign is None and self.scope in SCOPED:
            object.__setattr__(self, "foreign", 404)


def R(roles, personal: bool, scope: str | None = None, fixed: dict | None = None, foreign: int | None = None,
      **args) -> Route:
    return Route(frozenset(roles), personal, scope, args, fixed or {}, foreign)


def case(roles, **kw):
    """A route on the in-support case with an accepted referral (``referral_case``)."""
    return R(roles, True, "case", uid="referral_case", **kw)


ROUTES: dict[str, Route] = {
    # -- sign-in, account, language ----------------------------------------------------------
    "GET auth.login": R(ANYONE, False),
    "POST auth.login": R(ANYONE, False),
    "GET auth.login_code": R(ANYONE, False),
    "POST auth.login_code": R(ANYONE, False),
    "POST auth.logout": R(ANYONE, False),
    "POST auth.set_language": R(ANYONE, False, fixed={"code": "ko"}),
    "GET auth.account": R(ALL, False),
    "POST auth.change_password": R(ALL, False),
    "POST auth.sign_out_everywhere": R(ALL, False),
    "GET auth.clearance": R(ALL, False),
    "GET auth.totp_enrol": R(ALL, False),
    "POST auth.totp_enrol": R(ALL, False),
    "POST auth.totp_restart": R(ALL, False),
    "GET auth.totp_recovery_codes": R(ALL, False),
    "POST auth.totp_recovery_codes": R(ALL, False),
    "GET auth.totp_disable": R(ALL, False),
    "POST auth.totp_disable": R(ALL, False),
    # handling approval of accounts (admin)
    "GET auth.handling_list": R({M}, True),
    "GET auth.handling_user": R({M}, True, "user", uid="spare_user"),
    "POST auth.handling_approve": R({M}, True, "user", uid="spare_user"),
    "POST auth.handling_withdraw": R({M}, True, "user", uid="spare_user"),
    "POST auth.handling_training": R({M}, True, "user", uid="spare_user"),
    # -- home pages --------------------------------------------------------------------------
    "GET home.index": R(ALL, False),
    "GET home.school": R({S}, True),
    "GET home.lead": R({L}, True),
    "GET home.district": R({D}, True),
    "GET home.guardian": R({G}, True),
    "GET home.agency": R({A}, True),
    "GET home.auditor": R({U}, False),
    "GET home.admin": R({M}, False),
    # -- notifications (the owner's own; ``note`` belongs to the school staff member) ------------
    "GET notifications.index": R(ALL, True),
    "POST notifications.read_all": R(ALL, False),
    "POST notifications.mark_read": R({S}, False, "notification", uid="note"),
    # e-mail alerts (issue 17): everyone's own address and choices; the outbox's state (admin)
    "GET notifications.settings": R(ALL, False),
    "POST notifications.settings": R(ALL, False),
    "POST notifications.set_address": R(ALL, False),
    "POST notifications.remove_mail_address": R(ALL, False),
    "GET notifications.verify_address": R(ALL, False, fixed={"token": "not-a-token"}),
    "GET notifications.outbox": R({M}, True),
    # -- students ----------------------------------------------------------------------------
    "GET students.index": R(READERS, True),
    "POST students.index": R(READERS, False),
    "GET students.new": R(SCHOOL, False),
    "POST students.new": R(SCHOOL, True),
    "GET students.view": R(READERS, True, "student", uid="student"),
    "POST students.edit": R(SCHOOL, True, "student", uid="student"),
    "GET students.import_csv": R(SCHOOL, False),
    "POST students.import_csv": R(SCHOOL, True),
    "GET students.import_template": R(SCHOOL, False),
    # -- records: retention (the school lead of the student's school) --------------------------
    "GET records.retention_due": R({L}, True),
    "GET records.retention_student": R({L}, True, "student", uid="student"),
    "POST records.retention_hold": R({L}, True, "student", uid="student"),
    "POST records.retention_left_school": R({L}, True, "student", uid="student"),
    # -- records: 열람·정정 requests (the school lead of the student's school; ``subject_request``:
    #    a 열람 request about the referral case's student) ------------------------------------------
    "GET records.subject_requests": R({L}, True),
    "GET records.new_subject_request": R({L}, True, "student", student_uid="student"),
    "POST records.new_subject_request": R({L}, True, "student", student_uid="student"),
    "GET records.subject_request": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    "GET records.subject_copy": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    "GET records.subject_copy_json": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    "POST records.correct_subject_request": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    "POST records.complete_subject_request": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    "POST records.refuse_subject_request": R({L}, True, "subject_request", foreign=404, uid="subject_request"),
    # -- cases -------------------------------------------------------------------------------
    "GET cases.index": R(READERS, True),
    "POST cases.index": R(READERS, False),
    "GET cases.new": R(SCHOOL, True),
    "POST cases.new": R(SCHOOL, True),
    "GET cases.view": case(READERS),
    # lifecycle steps: a wrong role is refused before the (wrong) status is looked at
    "POST cases.transition": case(SCHOOL, fixed={"name": "start_screening"}),
    "POST cases.select": case({L}),
    "POST cases.not_select": case({L}),
    "POST cases.close": case({L}),
    "POST cases.reopen": case({L}),
    "POST cases.withdraw_request": case(SCHOOL),
    # the case's own school team records and changes its content
    "POST cases.consent": case(SCHOOL),
    "POST cases.withdraw_consent": R(SCHOOL, True, "case", uid="spare_case", consent_uid="consent"),
    "POST cases.add_plan_action": case(SCHOOL),
    "POST cases.plan_action_status": case(SCHOOL, action_uid="plan_action"),
    "POST cases.add_note": case(SCHOOL),
    "POST cases.escalate": case(SCHOOL),
    "POST cases.record_satisfaction_view": case(SCHOOL),
    "POST cases.add_need": case(SCHOOL),
    "POST cases.resolve_need": case(SCHOOL, need_uid="need"),
    "POST cases.rerate_risk": case(SCHOOL),
    # the district centre answers an escalation
    "POST cases.reply_escalation": case({D}, escalation_uid="escalation"),
    # -- agency directory --------------------------------------------------------------------
    "GET agencies.directory": R({S, L, D, A}, False),
    "GET agencies.detail": R({S, L, D, A}, False, "agency", uid="agency"),
    "GET agencies.new_agency": R({D}, False),
    "POST agencies.new_agency": R({D}, False),
    # an agency's entry is kept by its own coordinator and its district office (others: 403)
    "GET agencies.edit_agency": R({D, A}, False, "agency", foreign=403, uid="agency"),
    "POST agencies.edit_agency": R({D, A}, False, "agency", foreign=403, uid="agency"),
    "GET agencies.new_service": R({D, A}, False, "agency", foreign=403, uid="agency"),
    "POST agencies.new_service": R({D, A}, False, "agency", foreign=403, uid="agency"),
    "GET agencies.edit_service": R({D, A}, False, "agency", foreign=403, uid="service"),
    "POST agencies.edit_service": R({D, A}, False, "agency", foreign=403, uid="service"),
    "POST agencies.confirm_service": R({D, A}, False, "agency", foreign=403, uid="service"),
    "GET agencies.import_csv": R({D}, False),
    "POST agencies.import_csv": R({D}, False),
    "GET agencies.export_csv": R({D}, False),
    "GET agencies.suggest": case(READERS),
    # -- referrals, school side (the case's school team and its district coordinator) -----------
    "GET agencies.new_referral": R(READERS, True, "case", case_uid="referral_case"),
    "POST agencies.new_referral": R(READERS, True, "case", case_uid="referral_case"),
    "GET agencies.edit_referral": R(READERS, True, "referral", uid="draft"),
    "POST agencies.edit_referral": R(READERS, True, "referral", uid="draft"),
    "GET agencies.referral": R(READERS, True, "referral", uid="referral"),
    "POST agencies.send_referral": R(READERS, True, "referral", uid="draft"),
    "POST agencies.cancel_referral": R(READERS, True, "referral", uid="draft"),
    "GET agencies.overdue_referrals": R(READERS, True),
    # -- records: transfers (전학; ``transfer_out``: from the lead's school to a 노원구 school,
    #    ``transfer_in``: from that school to the lead's; both waiting for an answer) -----------
    "GET records.transfers": R({L, D}, True),
    "GET records.transfer": R({L, D}, True, "transfer", foreign=404, uid="transfer_out"),
    "GET records.new_transfer": R({L}, True, "case", case_uid="referral_case"),
    "POST records.new_transfer": R({L}, True, "case", case_uid="referral_case"),
    "POST records.accept_transfer": R({L}, True, "transfer", foreign=404, uid="transfer_in"),
    "POST records.return_transfer": R({L}, True, "transfer", foreign=404, uid="transfer_in"),
    "POST records.cancel_transfer": R({L}, True, "transfer", foreign=404, uid="transfer_out"),
    # -- referrals, agency side --------------------------------------------------------------
    "GET agencies.inbox": R({A}, True),
    "GET agencies.inbox_referral": R({A}, True, "inbox", uid="referral"),
    "POST agencies.inbox_accept": R({A}, True, "inbox", uid="referral"),
    "POST agencies.inbox_decline": R({A}, True, "inbox", uid="referral"),
    "POST agencies.inbox_record": R({A}, True, "inbox", uid="referral"),
    "POST agencies.inbox_outcome": R({A}, True, "inbox", uid="referral"),
    # -- conferences (``live``: a started school meeting of the lead's school; participants:
    #    staff, guardian, agency, coordinator; ``held``: recorded and amended once) ----------------
    "GET conferences.index": R({S, L, D, G, A}, False),
    "GET conferences.my_work": R({S, L, D, G, A}, True),
    "GET conferences.new": R(READERS, True),
    "POST conferences.new": R(READERS, True),
    "GET conferences.view": R({S, L, D, G, A}, True, "conference", uid="live"),
    "GET conferences.print_view": R({S, L, D, G, A}, True, "conference", uid="live"),
    # recording, amending, cancelling and old versions: the organiser side only
    "GET conferences.record_meeting": R(SCHOOL, True, "conference", uid="live"),
    "POST conferences.record_meeting": R(SCHOOL, True, "conference", uid="live"),
    "GET conferences.amend": R(SCHOOL, True, "conference", uid="held"),
    "POST conferences.amend": R(SCHOOL, True, "conference", uid="held"),
    "GET conferences.cancel": R(SCHOOL, False, "conference", uid="live"),
    "POST conferences.cancel": R(SCHOOL, False, "conference", uid="live"),
    "GET conferences.version": R(SCHOOL, True, "conference", uid="held", amendment_uid="amendment"),
    # an action item owned by the school team: the organiser side changes it; the coordinator and
    # the agency (participants who see the item's case but may not change it) get 403 before the form
    "POST conferences.action_status": R(SCHOOL, True, "conference", uid="item_conference", item_uid="item"),
    # -- guardians: roster, vetting, login approval (the coordinator of the guardian's office) --
    "GET guardians.roster": R({D}, True),
    "GET guardians.new": R({D}, False),
    "POST guardians.new": R({D}, True),
    "GET guardians.detail": R({D}, True, "guardian", uid="guardian"),
    "GET guardians.edit": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.edit": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.status": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.check_request": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.check_result": R({D}, True, "guardian", uid="guardian", check_uid="check"),
    "POST guardians.create_login": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.handling_approve": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.handling_withdraw": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.handling_training": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.vet_checks": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.vet_training": R({D}, True, "guardian", uid="guardian"),
    "POST guardians.vet_activate": R({D}, True, "guardian", uid="guardian"),
    # matching and the coordinator's assignment page
    "GET guardians.suggestions": R({D}, True, "case", uid="referral_case"),
    "POST guardians.propose": R({D}, True, "case", uid="referral_case"),
    "GET guardians.batch": R({D}, True),
    "POST guardians.confirm_batch": R({D}, True),
    "GET guardians.manage": R({D}, True, "assignment", uid="assignment"),
    "POST guardians.suspend": R({D}, True, "assignment", uid="assignment"),
    "POST guardians.reactivate": R({D}, True, "assignment", uid="assignment"),
    "POST guardians.end": R({D}, True, "assignment", uid="assignment"),
    "GET guardians.totals": R({D}, True),
    "GET guardians.totals_xlsx": R({D}, True),
    # a guardian's concern: the case's school team and its coordinator
    "GET guardians.concern": R(READERS, True, "concern", uid="concern"),
    "POST guardians.acknowledge": R(READERS, True, "concern", uid="concern"),
    # the guardian's own portal and assignment ("assignment" scope for another guardian: 404)
    "GET guardians.portal": R({G}, True),
    "GET guardians.assignment": R({G}, True, "assignment", uid="assignment"),
    "POST guardians.log": R({G}, True, "assignment", uid="assignment"),
    "POST guardians.end_request": R({G}, True, "assignment", uid="assignment"),
    "POST guardians.accept": R({G}, True, "assignment", uid="assignment"),
    "POST guardians.decline": R({G}, True, "assignment", uid="assignment"),
    # -- statistics (aggregates; the school page for the school team) ---------------------------
    "GET reports.index": R({S, L, D, U, M}, False),
    "GET reports.page": R(SCHOOL, True, fixed={"level": "school"}),
    "GET reports.export": R(SCHOOL, True, fixed={"level": "school", "fmt": "csv"}),
    "GET reports.district_report": R({D}, True),
    # -- audit trail (auditor) -----------------------------------------------------------------
    "GET audit.search": R({U}, True),
    "POST audit.lookup_subject": R({U}, True),
    "GET audit.review": R({U}, True),
    "POST audit.mark_review": R({U}, False),
    "GET audit.export": R({U}, False),
    "POST audit.export": R({U}, True),
    "GET audit.overrides": R({U}, True),
    "GET audit.grants": R({U}, True),
    "POST audit.export_grants": R({U}, True),
    # -- administration (admin; ``spare_user`` and ``spare_school`` exist only for these) -------
    "GET admin.users": R({M}, True),
    "GET admin.new_user": R({M}, False),
    "POST admin.new_user": R({M}, False),
    "GET admin.user": R({M}, True, "user", uid="spare_user"),
    "POST admin.change_grant": R({M}, True, "user", uid="spare_user"),
    "POST admin.deactivate": R({M}, True, "user", uid="spare_user"),
    "POST admin.reactivate": R({M}, True, "user", uid="spare_user"),
    "POST admin.unlock": R({M}, True, "user", uid="spare_user"),
    "POST admin.reset_password": R({M}, True, "user", uid="spare_user"),
    "POST admin.reset_totp": R({M}, True, "user", uid="spare_user"),
    "POST admin.approve": R({M}, True, "user", uid="spare_user"),
    "POST admin.withdraw": R({M}, True, "user", uid="spare_user"),
    "POST admin.training": R({M}, True, "user", uid="spare_user"),
    "GET admin.organisations": R({M}, False),
    "GET admin.new_organisation": R({M}, False, fixed={"kind": "school"}),
    "POST admin.new_organisation": R({M}, False, fixed={"kind": "school"}),
    "GET admin.organisation": R({M}, False, "organisation", uid="spare_school"),
    "POST admin.edit_organisation": R({M}, False, "organisation", uid="spare_school"),
    "POST admin.deactivate_organisation": R({M}, False, "organisation", uid="spare_school"),
    "POST admin.reactivate_organisation": R({M}, False, "organisation", uid="spare_school"),
}

#: cells where the app contradicts the table today ("METHOD endpoint", role) -> what it does;
#: the matrix test fails on them (and names them) until the app is fixed
FINDINGS: dict[tuple[str, str], str] = {}

#: run last: they end or change the signed-in session
LAST = ("POST auth.sign_out_everywhere", "POST auth.logout")
