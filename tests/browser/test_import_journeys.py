"""Journeys in real Chromium (issue 18): the two CSV imports, each upload → preview → confirm.
(a) A school lead uploads a class list from 학생: the preview tells the new students from the one
already registered whose class changes; confirmed, the students are saved, and a second upload
with one class number changed reports exactly one update.  (b) A district coordinator uploads an
agency directory from 유관기관: the preview lists every service, confirmed, the new agencies and
the service added to an agency already listed show in the directory."""
import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.agencies.models import AgencyService
from app.audit.models import AuditEvent
from app.auth.models import Organisation
from app.extensions import db
from app.students.models import Student
from tests.factories import Builder

from .test_conference_journey import sign_in

#: a class list as Korean Excel saves it, with the headers the import page lists (학생개인번호 matches)
CLASS_HEADER = "이름,생년월일,학년,반,번호,학생개인번호,보호자명,보호자관계,보호자연락처"
CLASS_ROWS = ["한바다,2014-04-02,5,2,7,N20140402,한엄마,모,010-2222-3333",  # registered in 4-1: an update
              "박서준,2014-03-05,5,2,8,N20140305,박아빠,부,010-1111-2222",  # new
              "이수아,20140611,5,2,9,,,,"]  # new, a birth date without dashes
#: a directory with the Korean headers the import page lists (the English ones work as well)
AGENCY_HEADER = ("기관명,기관 유형,서비스명,서비스 설명,지원 영역,대상 최소 나이,대상 최대 나이,지원 언어,접수 상태,"
                 "서비스 지역,운영 시간,전화,이메일,주소,최종 확인일")
AGENCY_ROWS = ["서대문구청소년상담복지센터,청소년상담복지센터,개별 상담,주 1회 개별 상담,counselling,9,18,한국어,available,"
               "서대문구|마포구,평일 09-18,02-333-4444,,,2026-11-02",
               "서대문구청소년상담복지센터,청소년상담복지센터,또래 집단 프로그램,,counselling|career,12,18,,waitlist,서대문구,,,,,",
               "마포구가족센터,가족센터,한국어 교실,,multicultural,7,15,한국어|베트남어,available,마포구,,,,,",
               "은평구드림스타트,드림스타트,아동 사례관리,,welfare|learning,0,12,,full,은평구,,,,,"]


def upload(page, label: str, path) -> None:
    """Choose the file in the page's file input and ask for the preview."""
    page.get_by_label(label).set_input_files(path)
    page.get_by_role("button", name="미리 보기").click()


def events(action: str) -> list[dict]:
    return [json.loads(e.details) for e in
            db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id))]


@pytest.mark.browser
def test_class_list_import_registers_and_updates_then_a_second_upload_reports_the_change(
        live_server, browser_page, tmp_path, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="이음초등학교")
        lead = build.user("school_lead", organisation=school, login="kim-lead", display_name="김교감")
        build.student(school, actor=lead, name="한바다", birth_date=dt.date(2014, 4, 2),
                      grade=4, class_no=1, number=5, neis_number="N20140402")
        school_id, school_uid = school.id, school.uid
    first = tmp_path / "5-2.csv"
    first.write_text("\n".join([CLASS_HEADER, *CLASS_ROWS]) + "\n", encoding="utf-8-sig")
    page = browser_page

    # 1. 학생 from the menu, then the import page with its help
    sign_in(page, live_server, "kim-lead")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="학생").click()
    expect(page).to_have_url(live_server("/students/"))
    page.get_by_role("link", name="학급 명단 가져오기(CSV)").click()
    expect(page).to_have_url(live_server("/students/import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("학급 명단 가져오기(CSV)")
    expect(page.locator("main")).to_contain_text("필수: 이름, 생년월일, 학년, 반, 번호")

    # 2. the preview: two new students, one registered student whose class changes; nothing saved yet
    upload(page, "학급 명단 CSV 파일", first)
    preview = page.get_by_test_id("import-preview")
    expect(preview.get_by_role("heading", level=2)).to_have_text("미리 보기: 5-2.csv")
    expect(page.get_by_test_id("import-summary")).to_have_text(
        "새 학생 2명, 학년·반·번호가 바뀌는 학생 1명, 바뀌지 않는 학생 0명")
    rows = page.get_by_test_id("import-row")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-action") for i in range(3)] == ["update", "add", "add"]
    expect(rows.nth(0)).to_contain_text("한바다")
    expect(rows.nth(0)).to_contain_text("정보 변경 (4학년 1반 5번 → 5학년 2반 7번)")
    expect(rows.nth(1)).to_contain_text("새로 등록")
    expect(rows.nth(2)).to_contain_text("5학년 2반 9번")
    expect(page.get_by_test_id("import-errors")).to_have_count(0)
    screenshot(page, "import-class-list-preview")
    with live_server.app.app_context():
        assert len(db.session.scalars(select(Student).filter_by(school_id=school_id)).all()) == 1

    # 3. confirm: the result said in words, the students in the list
    confirm = page.get_by_test_id("import-confirm")
    expect(confirm).to_have_text("2명 등록, 1명 정보 변경")
    confirm.click()
    expect(page).to_have_url(live_server("/students/"))
    expect(page.get_by_role("status").first).to_have_text("학생 2명을 등록하고 1명의 학년·반·번호를 바꿨습니다.")
    for name in ("한바다", "박서준", "이수아"):
        expect(page.locator("main")).to_contain_text(name)
    with live_server.app.app_context():
        students = {s.name: s for s in db.session.scalars(select(Student).filter_by(school_id=school_id))}
        assert sorted(students) == ["박서준", "이수아", "한바다"]
        assert [(students[n].grade, students[n].class_no, students[n].number) for n in ("한바다", "박서준", "이수아")] == [
            (5, 2, 7), (5, 2, 8), (5, 2, 9)]
        assert students["박서준"].parent_phone == "010-1111-2222" and students["박서준"].neis_number == "N20140305"
        assert students["이수아"].birth_date.isoformat() == "2014-06-11"
        assert events("students_imported") == [{"added": 2, "rows": 3, "updated": 1}]
        imported = db.session.scalars(select(AuditEvent).filter_by(action="students_imported")).one()
        assert imported.object_id == school_uid and imported.actor_login == "kim-lead"

    # 4. the same list again, 이수아 moved to 3반: one update, nothing new
    second = tmp_path / "5-2-moved.csv"
    second.write_text("\n".join([CLASS_HEADER, *CLASS_ROWS[:2], "이수아,20140611,5,3,9,,,,"]) + "\n", encoding="utf-8-sig")
    page.get_by_role("link", name="학급 명단 가져오기(CSV)").click()
    upload(page, "학급 명단 CSV 파일", second)
    expect(page.get_by_test_id("import-summary")).to_have_text(
        "새 학생 0명, 학년·반·번호가 바뀌는 학생 1명, 바뀌지 않는 학생 2명")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-action") for i in range(3)] == ["same", "same", "update"]
    expect(rows.nth(2)).to_contain_text("정보 변경 (5학년 2반 9번 → 5학년 3반 9번)")
    page.get_by_test_id("import-confirm").click()
    expect(page).to_have_url(live_server("/students/"))
    expect(page.get_by_role("status").first).to_have_text("학생 0명을 등록하고 1명의 학년·반·번호를 바꿨습니다.")
    with live_server.app.app_context():
        students = {s.name: s for s in db.session.scalars(select(Student).filter_by(school_id=school_id))}
        assert len(students) == 3  # nobody registered twice
        assert (students["이수아"].class_no, students["한바다"].class_no) == (3, 2)
        assert events("students_imported")[-1] == {"added": 0, "rows": 3, "updated": 1}


@pytest.mark.browser
def test_agency_directory_import_previews_confirms_and_lists_the_agencies(live_server, browser_page, tmp_path,
                                                                          screenshot):
    with live_server.app.app_context():
        build = Builder()
        office = build.organisation("district_office", gu="마포구")  # 서부교육지원청: 마포·서대문·은평
        build.user("district_coordinator", organisation=office, login="seo-coord", display_name="서담당")
        family = build.agency(gu="마포구", name="마포구가족센터", agency_kind="가족센터")
        db.session.commit()
        family_id, office_code = family.id, office.office_code
        agencies_before = len(db.session.scalars(select(Organisation).filter_by(kind="agency")).all())
    directory_csv = tmp_path / "seobu-agencies.csv"
    directory_csv.write_text("\n".join([AGENCY_HEADER, *AGENCY_ROWS]) + "\n", encoding="utf-8-sig")
    page = browser_page

    # 1. 유관기관 from the menu, then CSV 가져오기
    sign_in(page, live_server, "seo-coord")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="유관기관").click()
    expect(page).to_have_url(live_server("/agencies/"))
    expect(page.get_by_test_id("agency-row")).to_have_count(1)
    page.get_by_role("link", name="CSV 가져오기").click()
    expect(page).to_have_url(live_server("/agencies/import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("유관기관 목록 가져오기(CSV)")
    expect(page.get_by_test_id("import-korean-columns")).to_contain_text("기관명 = organization_name")

    # 2. the preview: four services of three agencies, each with its areas and capacity
    upload(page, "유관기관 목록 CSV 파일", directory_csv)
    rows = page.get_by_test_id("import-rows")
    expect(rows.locator("caption")).to_have_text("읽은 서비스 4건 (기관 3곳)")
    expect(rows.locator("tbody tr")).to_have_count(4)
    expect(rows.locator("tbody tr").nth(0).locator("td")).to_have_text(
        ["2", "서대문구청소년상담복지센터 (청소년상담복지센터)", "개별 상담", "서대문구, 마포구", "접수 가능"])
    expect(rows.locator("tbody tr").nth(1).locator("td").nth(4)).to_have_text("대기")
    expect(rows.locator("tbody tr").nth(3).locator("td")).to_have_text(
        ["5", "은평구드림스타트 (드림스타트)", "아동 사례관리", "은평구", "마감"])
    expect(page.get_by_test_id("import-errors")).to_have_count(0)
    screenshot(page, "import-agencies-preview")
    with live_server.app.app_context():
        assert db.session.scalars(select(AgencyService)).all() == []  # a preview saves nothing

    # 3. confirm: the result, then the directory lists the new agencies and the added service
    confirm = page.get_by_test_id("import-confirm")
    expect(confirm).to_have_text("4건 모두 등록")
    confirm.click()
    expect(page).to_have_url(live_server("/agencies/"))
    expect(page.get_by_role("status").first).to_have_text("서비스 4건을 등록했습니다.")
    agencies = page.get_by_test_id("agency-row")
    expect(agencies).to_have_count(3)  # the family centre got a service, not a twin
    expect(page.get_by_test_id("result-count")).to_have_text("기관 3곳")
    youth = agencies.filter(has_text="서대문구청소년상담복지센터")
    expect(youth.locator("td").nth(1)).to_have_text("청소년상담복지센터")
    expect(youth.locator("td").nth(2)).to_have_text("서대문구")  # made in its first service area
    expect(youth.locator("li[data-service]")).to_have_count(2)
    expect(youth.locator("li[data-service]", has_text="또래 집단 프로그램").locator("[data-capacity]")).to_have_text("대기")
    expect(youth.locator("li[data-service]", has_text="개별 상담")).to_contain_text("만 9~18세")
    family_services = agencies.filter(has_text="마포구가족센터").locator("li[data-service]")
    expect(family_services).to_have_count(1)
    expect(family_services).to_contain_text("한국어 교실")
    expect(family_services).to_contain_text("다문화 · 만 7~15세")
    dream = agencies.filter(has_text="은평구드림스타트")
    expect(dream.locator("td").nth(2)).to_have_text("은평구")
    expect(dream.locator("[data-capacity]")).to_have_text("마감")
    screenshot(page, "import-agencies-directory")

    # 4. the directory's own search finds an imported service by what it offers
    filters = page.get_by_test_id("directory-filters")
    filters.get_by_label("지원 영역").select_option(label="다문화")
    filters.get_by_role("button", name="검색").click()
    expect(page).to_have_url(re.compile(r"/agencies/\?.*domain=multicultural"))
    expect(agencies).to_have_count(1)
    expect(agencies.first).to_contain_text("마포구가족센터")

    with live_server.app.app_context():
        listed = {a.name: a for a in db.session.scalars(select(Organisation).filter_by(kind="agency"))}
        assert len(listed) == agencies_before + 2
        assert listed["마포구가족센터"].id == family_id
        assert {listed[n].office_code for n in ("서대문구청소년상담복지센터", "은평구드림스타트")} == {office_code}
        assert listed["서대문구청소년상담복지센터"].gu.name_ko == "서대문구"
        services = {s.name: s for s in db.session.scalars(select(AgencyService))}
        assert len(services) == 4 and set(services) == {"개별 상담", "또래 집단 프로그램", "한국어 교실", "아동 사례관리"}
        assert services["한국어 교실"].organisation_id == family_id
        assert services["한국어 교실"].languages == ["한국어", "베트남어"]
        assert services["개별 상담"].domains == ["counselling"] and services["개별 상담"].contact_phone == "02-333-4444"
        assert sorted(a.gu.name_ko for a in services["개별 상담"].areas) == ["마포구", "서대문구"]
        assert services["아동 사례관리"].capacity_status == "full"
        assert events("agencies_imported") == [{"office": office_code, "rows": 4}]
