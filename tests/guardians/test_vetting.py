"""Guardian vetting in three posts for the usual path (both checks, training, activation), each
through the audited single-purpose services in one transaction; refusals show Korean messages next
to the fields and save nothing; only the office's coordinator may vet."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db
from app.guardians import services as gs
from app.guardians import vetting
from app.guardians.models import CHECK_KINDS, RecordCheck

KINDS = tuple(CHECK_KINDS)


def _count(model_or_action) -> int:
    if isinstance(model_or_action, str):
        return db.session.execute(select(func.count()).select_from(AuditEvent)
                                  .filter_by(action=model_or_action)).scalar()
    return db.session.execute(select(func.count()).select_from(model_or_action)).scalar()


def _checks_data(result: str = "clear", checked_on: dt.date | None = None, **overrides) -> dict:
    day = today_kst() - dt.timedelta(days=2)
    checked = (checked_on or today_kst()).isoformat()
    data = {}
    for kind in KINDS:
        data.update({f"{kind}_consent_on": (day - dt.timedelta(days=1)).isoformat(),
                     f"{kind}_requested_on": day.isoformat(), f"{kind}_result": result,
                     f"{kind}_checked_on": checked if result != "pending" else "",
                     f"{kind}_reference": f"R-{kind}" if result != "pending" else ""})
    data.update(overrides)
    return data


def _error(page: str, field: str) -> str:
    """The error text shown next to ``field`` (its -error paragraph)."""
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert found, field
    return found.group(1)


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_usual_path_in_three_posts(client, login, coordinator, make_guardian):
    guardian = make_guardian(training_hours=0)
    assert guardian.status == "applicant"
    login(coordinator)
    page = _text(client.get(f"/guardians/{guardian.uid}"))
    assert 'data-testid="vet-checks-form"' in page and 'id="step-checks" open' in page
    posts = [(f"/guardians/{guardian.uid}/vetting/checks", _checks_data()),
             (f"/guardians/{guardian.uid}/vetting/training", {"training_hours": "30"}),
             (f"/guardians/{guardian.uid}/vetting/activate", {"note": ""})]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 302, url
    db.session.expire_all()
    assert guardian.status == "active" and guardian.training_hours == 30
    assert sorted(c.result for c in guardian.checks) == ["clear", "clear"]
    assert all(c.valid_until for c in guardian.checks)
    assert (_count("record_check_requested"), _count("record_check_result")) == (2, 2)
    moves = db.session.execute(select(AuditEvent.details).filter_by(action="guardian_status_changed")
                               .order_by(AuditEvent.id)).scalars().all()
    moves = [json.loads(m) for m in moves]
    assert [(m["from"], m["to"]) for m in moves] == [("applicant", "screening"), ("screening", "trained"),
                                                     ("trained", "active")]
    assert _count("guardian_updated") == 1
    page = _text(client.get(f"/guardians/{guardian.uid}"))
    assert page.count('data-done="yes"') == 3


def test_requests_first_then_results_on_the_same_screen(client, login, coordinator, make_guardian):
    guardian = make_guardian()
    login(coordinator)
    assert client.post(f"/guardians/{guardian.uid}/vetting/checks", data=_checks_data("pending")).status_code == 302
    db.session.expire_all()
    assert [c.result for c in guardian.checks] == ["pending", "pending"] and guardian.status == "screening"
    page = _text(client.get(f"/guardians/{guardian.uid}"))
    assert page.count('data-testid="pending-check"') == 2
    results = {f"{k}_{f}": v for k in KINDS for f, v in (("result", "clear"), ("checked_on", today_kst().isoformat()),
                                                         ("reference", "R-9"))}
    assert client.post(f"/guardians/{guardian.uid}/vetting/checks", data=results).status_code == 302
    db.session.expire_all()
    assert [c.result for c in guardian.checks] == ["clear", "clear"] and _count(RecordCheck) == 2


def test_missing_dates_are_shown_for_both_kinds_at_once(client, login, coordinator, make_guardian):
    guardian = make_guardian()
    login(coordinator)
    response = client.post(f"/guardians/{guardian.uid}/vetting/checks",
                           data={f"{k}_result": "clear" for k in KINDS})
    page = _text(response)
    assert response.status_code == 400
    for kind in KINDS:
        assert _error(page, f"{kind}_consent_on") == "본인 동의일을 입력해 주세요."
        assert _error(page, f"{kind}_requested_on") == "조회 요청일을 입력해 주세요."
        assert _error(page, f"{kind}_checked_on") == "결과를 받은 조회일을 입력해 주세요."
        assert _error(page, f"{kind}_reference") == "회보서 번호를 입력해 주세요."
    bad = client.post(f"/guardians/{guardian.uid}/vetting/checks",
                      data=_checks_data(**{f"{KINDS[0]}_consent_on": "어제"}))
    assert bad.status_code == 400 and "2026-12-08처럼" in _error(_text(bad), f"{KINDS[0]}_consent_on")
    assert _count(RecordCheck) == 0 and _count("record_check_requested") == 0


def test_expired_check_and_wrong_order_save_nothing(client, login, coordinator, make_guardian):
    guardian = make_guardian()
    login(coordinator)
    old = today_kst() - dt.timedelta(days=400)
    data = _checks_data(**{f"{KINDS[1]}_consent_on": (old - dt.timedelta(days=3)).isoformat(),
                           f"{KINDS[1]}_requested_on": (old - dt.timedelta(days=2)).isoformat(),
                           f"{KINDS[1]}_checked_on": old.isoformat()})
    response = client.post(f"/guardians/{guardian.uid}/vetting/checks", data=data)
    assert response.status_code == 400 and "유효기간이 끝난 조회" in _error(_text(response), f"{KINDS[1]}_checked_on")
    # the first kind was fine and went through its services first: rolled back with the rest
    assert _count(RecordCheck) == 0 and _count("record_check_requested") == 0
    early = _checks_data(**{f"{KINDS[0]}_checked_on": (today_kst() - dt.timedelta(days=5)).isoformat()})
    response = client.post(f"/guardians/{guardian.uid}/vetting/checks", data=early)
    assert response.status_code == 400
    assert "조회일은 요청일과 오늘 사이여야 합니다" in _error(_text(response), f"{KINDS[0]}_checked_on")
    db.session.expire_all()
    assert _count(RecordCheck) == 0 and guardian.status == "applicant"


def test_not_clear_is_recorded_and_activation_refused(client, login, coordinator, make_guardian):
    guardian = make_guardian(status="trained")
    login(coordinator)
    data = _checks_data(**{f"{KINDS[0]}_result": "not_clear"})
    assert client.post(f"/guardians/{guardian.uid}/vetting/checks", data=data).status_code == 302
    before = _count("guardian_status_changed")
    response = client.post(f"/guardians/{guardian.uid}/vetting/activate", data={"note": ""})
    page = _text(response)
    assert response.status_code == 400 and "결격 사유 있음" in _error(page, "note")
    db.session.expire_all()
    assert guardian.status == "trained" and _count("guardian_status_changed") == before


def test_activation_refused_without_training_or_checks(client, login, coordinator, make_guardian):
    guardian = make_guardian(training_hours=4)
    login(coordinator)
    response = client.post(f"/guardians/{guardian.uid}/vetting/activate", data={"note": ""})
    message = _error(_text(response), "note")
    assert response.status_code == 400 and "30시간 중 4시간" in message and "조회 기록 없음" in message
    db.session.expire_all()
    assert guardian.status == "applicant"


@pytest.mark.parametrize("hours, message", [("", "이수 시간을 숫자로 입력해 주세요."), ("열", "숫자로 입력해 주세요."),
                                            ("2000", "이수 시간은 0에서 1000 사이로 입력해 주세요.")])
def test_training_refuses_bad_input(client, login, coordinator, make_guardian, hours, message):
    guardian = make_guardian(training_hours=3)
    login(coordinator)
    response = client.post(f"/guardians/{guardian.uid}/vetting/training", data={"training_hours": hours})
    assert response.status_code == 400 and _error(_text(response), "training_hours") == message
    db.session.expire_all()
    assert guardian.training_hours == 3 and _count("guardian_updated") == 0


def test_partial_training_is_kept_without_moving_on(client, login, coordinator, make_guardian):
    guardian = make_guardian(status="screening", training_hours=0)
    login(coordinator)
    assert client.post(f"/guardians/{guardian.uid}/vetting/training", data={"training_hours": "12"}).status_code == 302
    db.session.expire_all()
    assert guardian.training_hours == 12 and guardian.status == "screening"


@pytest.mark.parametrize("step", ["checks", "training", "activate"])
@pytest.mark.parametrize("who, status", [("school_lead", 403), ("guardian", 403), ("foreign_coordinator", 404)])
def test_other_roles_and_offices_are_refused(build, client, login, make_guardian, step, who, status):
    guardian = make_guardian()
    url = f"/guardians/{guardian.uid}/vetting/{step}"
    data = {"checks": _checks_data(), "training": {"training_hours": "30"}, "activate": {}}[step]
    if who == "foreign_coordinator":
        login(build.user("district_coordinator", organisation=build.organisation("district_office", "강남구")))
    else:
        login(build.user(who))
    assert client.post(url, data=data).status_code == status
    assert _count("permission_denied") == 1
    db.session.expire_all()
    assert _count(RecordCheck) == 0 and guardian.status == "applicant" and _count("guardian_updated") == 0


def test_services_refuse_a_foreign_actor_and_an_empty_step(build, coordinator, make_guardian):
    guardian = make_guardian()
    foreign = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    with pytest.raises(NotPermitted):
        vetting.record_checks(foreign, guardian, {})
    with pytest.raises(NotPermitted):
        vetting.record_training(foreign, guardian, 30)
    with pytest.raises(NotPermitted):
        vetting.activate_guardian(foreign, guardian)
    with pytest.raises(DomainError) as refused:
        vetting.record_checks(coordinator, guardian, {})
    assert refused.value.field == f"{KINDS[0]}_requested_on"


def test_service_messages_choose_their_particles(build, coordinator, make_guardian):
    guardian = make_guardian()
    with pytest.raises(DomainError, match="^이름을 입력해 주세요.$"):
        gs.update_guardian(coordinator, guardian, {"name": " "})
    with pytest.raises(DomainError, match="^연락처를 입력해 주세요.$"):
        gs.update_guardian(coordinator, guardian, {"phone": ""})
    with pytest.raises(DomainError, match="^담당 학생 수는 1~4 사이여야 합니다.$"):
        gs.update_guardian(coordinator, guardian, {"capacity": 9})
    with pytest.raises(DomainError, match="^교육 이수 시간은 숫자로 입력해 주세요.$"):
        gs.update_guardian(coordinator, guardian, {"training_hours": "열"})
    with pytest.raises(DomainError, match="^'지원'에서 '활동'으로 바꿀 수 없습니다.$"):
        gs.change_guardian_status(coordinator, guardian, "active")
    gs.change_guardian_status(coordinator, guardian, "screening")
    with pytest.raises(DomainError, match="^'심사 중'에서 '지원'으로 바꿀 수 없습니다.$"):
        gs.change_guardian_status(coordinator, guardian, "applicant")
