"""The new school's answer: acceptance (with consent the student and the case move, in one
transaction; the old school keeps the receipt and loses the case), return, cancel, and refusals."""
from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import services as case_services
from app.cases.models import CaseEvent, SupportCase
from app.cases.plan import add_plan_action
from app.extensions import db
from app.notifications.models import Notification
from app.records.transfer_models import CaseTransfer
from app.records.transfer_services import accept_transfer

from .transfer_helpers import bare_world, client_for, send, world  # noqa: F401  (fixtures)


def _actions() -> list[str]:
    return [e.action for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_acceptance_with_consent_moves_the_student_and_the_case(app, world):  # noqa: F811  (fixtures)
    w = world
    w.case.owner_id = w.old_staff.id
    action = add_plan_action(w.case, w.old_lead, goal="출석 안정", action="주 1회 상담")
    action.owner_id = w.old_staff.id
    db.session.commit()
    transfer = send(w)
    old_client = client_for(app, w.old_lead)
    assert old_client.get(f"/cases/{w.case.uid}").status_code == 200
    new_client = client_for(app, w.new_lead)
    assert new_client.get(f"/cases/{w.case.uid}").status_code == 404  # not before acceptance
    page = new_client.get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    assert 'data-testid="accept-form"' in page and "02-300-1234" in page and "김보냄" in page
    response = new_client.post(f"/records/transfers/{transfer.uid}/accept", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    case, transfer = db.session.get(SupportCase, w.case.id), db.session.get(CaseTransfer, transfer.id)
    assert (case.school_id, case.student.school_id) == (w.new.id, w.new.id)
    assert case.owner_id is None and db.session.get(type(action), action.id).owner_id is None
    assert (transfer.status, transfer.answered_by_id, transfer.with_data) == ("accepted", w.new_lead.id, True)
    assert transfer.answered_at is not None
    # the old school: 404 on the case and the student, the read-only record on the transfer page
    old_client = client_for(app, w.old_lead)
    assert old_client.get(f"/cases/{w.case.uid}").status_code == 404
    assert old_client.get(f"/students/{w.student.uid}").status_code == 404
    assert client_for(app, w.old_staff).get(f"/cases/{w.case.uid}").status_code == 404
    assert client_for(app, w.old_coord).get(f"/cases/{w.case.uid}").status_code == 404
    receipt = old_client.get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    assert "박받음" in receipt and 'data-testid="answered-at"' in receipt and 'data-testid="moved-note"' in receipt
    assert 'data-testid="case-link"' not in receipt
    # the new school: the full chronology, old lines and the two transfer lines
    page = client_for(app, w.new_lead).get(f"/cases/{w.case.uid}").get_data(as_text=True)
    assert "전학 이관 보냄: 대치전입초등학교" in page and "전학 이관 접수: 대치전입초등학교 박받음" in page
    assert "동의 기록" in page  # a line written at the old school
    assert client_for(app, w.new_staff).get(f"/cases/{w.case.uid}").status_code == 200
    assert client_for(app, w.new_coord).get(f"/cases/{w.case.uid}").status_code == 200
    actions = _actions()
    assert "transfer_accepted" in actions and "transfer_moved" in actions and "transfer_viewed" in actions
    # the alert asking the new school to answer is resolved
    open_alerts = db.session.execute(select(Notification).where(
        Notification.kind == "transfer", Notification.user_id == w.new_lead.id,
        Notification.resolved_at.is_(None))).scalars().all()
    assert not open_alerts


def test_acceptance_without_consent_leaves_the_case_with_the_old_school(app, bare_world):  # noqa: F811  (fixtures)
    w = bare_world
    transfer = send(w)
    new_client = client_for(app, w.new_lead)
    page = new_client.get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    assert 'data-value="no"' in page and "02-300-1234" in page
    assert "수업 중 집중" not in page  # the case summary never travels
    assert new_client.post(f"/records/transfers/{transfer.uid}/accept", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    case = db.session.get(SupportCase, w.case.id)
    assert case.school_id == w.old.id and case.student.school_id == w.old.id and case.status == "in_support"
    assert new_client.get(f"/cases/{w.case.uid}").status_code == 404
    old_page = client_for(app, w.old_lead).get(f"/cases/{w.case.uid}").get_data(as_text=True)
    assert 'data-testid="close-as-transferred"' in old_page
    note = db.session.execute(select(Notification).where(Notification.user_id == w.old_lead.id,
                                                         Notification.kind == "transfer")).scalars().all()
    assert any("종결해 주세요" in str(n.text) for n in note)
    # the old school then closes with reason 전학
    case_services.close_case(case, w.old_lead, reason="transferred",
                             outcomes={need.id: ("referred", "") for need in case.needs})
    db.session.commit()
    assert case.status == "closed" and case.close_reason == "transferred"


def test_a_consent_withdrawn_after_sending_keeps_the_data_at_home(app, world):  # noqa: F811  (fixtures)
    from app.cases.consent import withdraw_consent
    from app.cases.models import Consent, ConsentPurpose
    w = world
    transfer = send(w)
    consent = db.session.execute(select(Consent).join(ConsentPurpose).where(
        Consent.case_id == w.case.id, ConsentPurpose.purpose == "transfer")).scalars().first()
    withdraw_consent(consent, w.case, w.old_lead)
    db.session.commit()
    accept_transfer(transfer, w.new_lead)
    db.session.commit()
    assert transfer.with_data is False and w.case.school_id == w.old.id
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "transfer_accepted")).scalar_one()
    assert '"consent_lapsed":true' in event.details


def test_return_needs_a_reason_and_keeps_the_case(app, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    client = client_for(app, w.new_lead)
    before = _actions()
    response = client.post(f"/records/transfers/{transfer.uid}/return", data={"reason": "  "})
    assert response.status_code == 400 and "반송 사유를 입력해 주세요." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CaseTransfer, transfer.id).status == "sent"
    assert [a for a in _actions()[len(before):] if a != "transfer_viewed"] == []
    response = client.post(f"/records/transfers/{transfer.uid}/return", data={"reason": "전입 기록 없음"})
    assert response.status_code == 302
    db.session.expire_all()
    transfer = db.session.get(CaseTransfer, transfer.id)
    assert transfer.status == "returned" and transfer.return_reason == "전입 기록 없음"
    assert transfer.case.school_id == w.old.id
    page = client_for(app, w.old_lead).get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    assert "전입 기록 없음" in page
    # returned: the old school may send again
    assert send(w, to=w.third).status == "sent"


def test_cancel_by_the_sender_while_sent(app, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    old_client = client_for(app, w.old_lead)
    assert old_client.post(f"/records/transfers/{transfer.uid}/cancel", data={}).status_code == 400
    assert old_client.post(f"/records/transfers/{transfer.uid}/cancel", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CaseTransfer, transfer.id).status == "cancelled"
    new_client = client_for(app, w.new_lead)
    response = new_client.post(f"/records/transfers/{transfer.uid}/accept", data={"confirm": "y"})
    assert response.status_code == 400 and "이미 취소 처리된 전학 이관입니다." in response.get_data(as_text=True)
    assert "transfer_cancelled" in _actions()
    assert not db.session.execute(select(Notification).where(
        Notification.user_id == w.new_lead.id, Notification.kind == "transfer",
        Notification.object_key.is_not(None), Notification.resolved_at.is_(None))).scalars().all()


def test_closing_the_case_cancels_its_waiting_transfer(app, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    case_services.close_case(w.case, w.old_lead, reason="transferred",
                             outcomes={need.id: ("referred", "") for need in w.case.needs})
    db.session.commit()
    assert transfer.status == "cancelled"


def test_who_may_answer_and_see(app, build, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    base = f"/records/transfers/{transfer.uid}"
    # seeing: both leads and both offices' coordinators
    for user in (w.old_lead, w.new_lead, w.old_coord, w.new_coord):
        assert client_for(app, user).get(base).status_code == 200, user.login
    far_coord = build.user("district_coordinator", organisation=build.organisation("district_office", "노원구"))
    cases = [(w.old_staff, 403), (w.new_staff, 403), (w.third_lead, 404), (far_coord, 404),
             (build.user("agency_coordinator"), 403), (build.user("auditor"), 403), (build.user("guardian"), 403)]
    for user, status in cases:
        client = client_for(app, user)
        assert client.get(base).status_code == status, user.role
        for verb in ("accept", "return", "cancel"):
            assert client.post(f"{base}/{verb}", data={"confirm": "y", "reason": "x"}).status_code in (403, 404)
    # the wrong side of the transfer: the sender cannot accept or return, the receiver cannot cancel
    old_client, new_client = client_for(app, w.old_lead), client_for(app, w.new_lead)
    assert old_client.post(f"{base}/accept", data={"confirm": "y"}).status_code == 403
    assert old_client.post(f"{base}/return", data={"reason": "x"}).status_code == 403
    assert new_client.post(f"{base}/cancel", data={"confirm": "y"}).status_code == 403
    assert client_for(app, w.old_coord).post(f"{base}/accept", data={"confirm": "y"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(CaseTransfer, transfer.id).status == "sent"
    assert db.session.get(SupportCase, w.case.id).school_id == w.old.id
    lines = db.session.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == w.case.id)
                               ).scalar_one()
    assert lines > 0


def test_the_list_page_and_the_homes(app, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    page = client_for(app, w.new_lead).get("/records/transfers").get_data(as_text=True)
    assert transfer.uid in page and w.student.name in page
    page = client_for(app, w.old_lead).get("/records/transfers?view=outgoing").get_data(as_text=True)
    assert transfer.uid in page
    assert transfer.uid not in client_for(app, w.third_lead).get("/records/transfers?view=all").get_data(as_text=True)
    home = client_for(app, w.new_lead).get("/home/lead").get_data(as_text=True)
    assert 'data-testid="home-transfers-incoming"' in home and w.student.name in home
    home = client_for(app, w.old_lead).get("/home/lead").get_data(as_text=True)
    assert 'data-testid="home-transfers-outgoing"' in home
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "home_viewed")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert '"rows_shown":' in event.details


def test_the_new_school_is_warned_of_a_student_it_already_registered(app, build, world):  # noqa: F811  (fixtures)
    w = world
    transfer = send(w)
    client = client_for(app, w.new_lead)
    assert 'data-testid="duplicate-student"' not in client.get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    build.student(w.new, actor=w.new_lead, name=w.student.name, birth_date=w.student.birth_date)
    page = client_for(app, w.new_lead).get(f"/records/transfers/{transfer.uid}").get_data(as_text=True)
    assert 'data-testid="duplicate-student"' in page
