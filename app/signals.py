"""Lifecycle signals: how a change in one feature reaches every other (DESIGN "Cross-feature lifecycle").

A feature owns its state; the features that depend on it react through these named signals, as
Flask and Indico (``indico/core/signals``) do with blinker.  Rules:

* The owning service sends *after* its own change and audit event, inside the caller's
  transaction: ``signal.send(sender, actor=..., **kwargs)``.
* Receivers live in the reacting feature's ``reactions.py`` and are connected once by the app
  factory (``connect_reactions``).  They run synchronously in the same transaction, write their
  own audit event and chronology line, and may refuse by raising ``DomainError``; the caller
  then rolls back, so a change and all its consequences stand or fall together.
* Import direction: auth → students → cases → guardians, agencies → conferences → reports.
  A feature never imports one above it; what must travel upwards travels by signal.

``actor`` is the acting user, or None for a daily command (the system).
"""
from __future__ import annotations

import importlib

from blinker import Namespace

_signals = Namespace()

case_closed = _signals.signal("case-closed", doc="""
Sender: the SupportCase, after ``cases.services.close_case``.
Kwargs: ``actor``; ``choices`` (dict of the close form's extra fields, e.g.
``assignment_<id>`` → guardian closure code, ``referral_<id>`` → cancel reason).
Listeners: guardians (end every counted assignment with the chosen code), agencies (cancel drafts;
refuse while a sent/accepted/in-service referral is neither resolved nor cancelled on the form),
conferences (open action items → "사례 종결로 종료"), notifications (open alerts about the case resolve).
""")

case_reopened = _signals.signal("case-reopened", doc="""
Sender: the SupportCase, after ``cases.services.reopen_case``.  Kwargs: ``actor``.
Nothing is restored automatically; the chronology says so (written by cases).  No listener yet.
""")

case_withdrawn = _signals.signal("case-withdrawn", doc="""
Sender: the SupportCase, after ``cases.services.withdraw_request`` (a request still in 요청 접수).
Kwargs: ``actor``.  Listeners: notifications (alerts about the case resolve).
""")

consent_withdrawn = _signals.signal("consent-withdrawn", doc="""
Sender: the SupportCase, after ``cases.consent.withdraw_consent``.
Kwargs: ``actor``, ``consent``, ``party``, ``purposes`` (list of purpose codes), ``agency_ids``.
Listeners: guardians (matching no longer covered → suspend active assignments, withdraw proposals,
alert school and coordinator), agencies (stop or hide referrals no longer covered), conferences
(a chronology line when conference sharing stops; the shared view is computed from consent).
""")

consent_expired = _signals.signal("consent-expired", doc="""
Sender: the SupportCase, from ``flask cases consent-expiry`` (daily) once per lapsed consent.
Kwargs as ``consent_withdrawn`` (``actor`` is None).  Listeners: the same as ``consent_withdrawn``.
""")

guardian_suspended = _signals.signal("guardian-suspended", doc="""
Sender: the Guardian, after its active assignments were paused (lapse, not-clear result, status).
Kwargs: ``actor``, ``reason`` (guardians.models.SUSPEND_REASONS), ``assignments``.  No listener yet.
""")

guardian_reinstated = _signals.signal("guardian-reinstated", doc="""
Sender: the Guardian, when it is eligible again and has suspended assignments.
Kwargs: ``actor``, ``assignments`` (the suspended ones the coordinator may now reactivate).
Listeners: guardians (alert the office's coordinators with a link to reactivate).
""")

assignment_ended = _signals.signal("assignment-ended", doc="""
Sender: the Assignment, after ``guardians.assignments.close_assignment`` (any path).
Kwargs: ``actor``, ``reason``.  Listeners: notifications (alerts about the assignment resolve).
""")

referral_resolved = _signals.signal("referral-resolved", doc="""
Sender: the Referral, after it was answered or ended (accepted, declined, completed, failed,
cancelled).  Kwargs: ``actor``, ``status``.  Listeners: notifications (the agency's "new referral"
alert resolves once answered; every alert about it resolves once it ended).
""")

concern_raised = _signals.signal("concern-raised", doc="""
Sender: the GuardianConcern, after a guardian flagged a concern on an activity log.
Kwargs: ``actor``, ``case``.  No listener yet (guardians alerts the school and coordinators itself).
""")

concern_acknowledged = _signals.signal("concern-acknowledged", doc="""
Sender: the GuardianConcern, after the school team or a coordinator acknowledged it.
Kwargs: ``actor``, ``case``.  Listeners: notifications (the concern's alerts resolve for everyone).
""")

conference_held = _signals.signal("conference-held", doc="""
Sender: the Conference, after its meeting record (attendance, minutes, decisions) was saved.
Kwargs: ``actor``, ``cases``.  Listeners: notifications (invitations to it resolve).
""")

plan_action_finished = _signals.signal("plan-action-finished", doc="""
Sender: the PlanAction, when it left "open" (done, cancelled, ended with the case).
Kwargs: ``actor``, ``status``.  Listeners: notifications (reminders about it resolve).
""")

# -- questions a feature asks the features above it (receivers return values) -----------------

case_close_items = _signals.signal("case-close-items", doc="""
Sender: the SupportCase whose close form is being built.  Kwargs: none.
Receivers return a list of ``app.lifecycle.CloseItem`` (one question per dependent object, e.g.
"how does this guardian's assignment end?"); the cases close form (case page and conference
"종결" decision) adds a field per item, and ``case_closed`` receives the answers as ``choices``.
Listeners: guardians (counted assignments), agencies (sent/accepted/in-service referrals).
""")

case_page_sections = _signals.signal("case-page-sections", doc="""
Sender: the SupportCase whose page is being rendered.  Kwargs: ``user``.
Receivers return an ``app.lifecycle.PageSection`` (a template and its context) or None; the case
page includes them in ``order``.  Listeners: guardians (assignments, concerns), agencies (referrals).
""")

students_registered = _signals.signal("students-registered", doc="""
Sender: the School (an Organisation) whose students a class-list import registered at once with
one INSERT, outside the ORM's unit of work (``students.services.create_students``), so no flush
hook saw them.  Kwargs: ``students`` (the new Student rows, with their ids).  Receivers add what
every new student needs, in the same transaction.  Listeners: records (each student's retention
row, as its before_flush hook adds it for a student registered one at a time).
""")

student_transferred = _signals.signal("student-transferred", doc="""
Sender: the SupportCase, after ``records.transfer_services.accept_transfer`` moved it (and its
student) to the new school with consent: ``case.school_id`` is already the new school.
Kwargs: ``actor`` (the new school's lead), ``transfer`` (the CaseTransfer: ``from_school`` and
``to_school``, so receivers can reach both offices).  Listeners: guardians (active or suspended
assignments → the coordinators of both offices are asked to review them), agencies (open
referrals → the same), conferences (the case's review row follows it to the new school).
""")

student_retained_until_passed = _signals.signal("student-retained-until-passed", doc="""
Sender: the Student, from ``flask retention run`` (records.retention_erase.remove_student) once the
retention date passed with no legal hold, inside the student's one deletion transaction, before
records deletes the cases and the student.  Kwargs: ``actor`` (None), ``tombstone`` (the
RetentionTombstone), ``rows`` (dict table name → ids of every row that references the student,
directly or through other such rows, found by foreign key) and ``uids`` (dict table name → the
uids of those rows, for alerts that name an object by a link).
Receivers delete their own rows about the student (never blank them) and return a dict
{table name: rows deleted} for the tombstone's counts; the removal's one audit event carries them.
Listeners: notifications (alerts and their mail), guardians (concerns, activity logs, assignments),
agencies (service records, referrals), conferences (case records, action items, reviews, amendment
copies; a meeting with no other case goes whole).
""")

home_sections = _signals.signal("home-sections", doc="""
Sender: the User whose home page is being rendered.  Kwargs: none.
Receivers return an ``app.lifecycle.PageSection`` (or a list, or None) for that user's home
(school staff/lead and district coordinator homes include them after the alerts panel, in
``order``); a section listing students puts ``rows_shown`` (int) in its context so the home's
``home_viewed`` audit event counts them.  Listeners: records (transfers, 열람·정정 requests,
retention due), each only for the roles it concerns.
""")

#: features with a reactions module, in import order (each connects its receivers on import)
REACTING_FEATURES = ("notifications", "guardians", "agencies", "conferences", "records")


def connect_reactions() -> None:
    """Import every feature's ``reactions`` module once; importing connects its receivers."""
    for feature in REACTING_FEATURES:
        importlib.import_module(f"app.{feature}.reactions")
