"""The English-mode check's own logic (tests/i18n_pages.py): what counts as user data, how it is
taken out, what is reported as Hangul left over."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from app.cases.chronology import add_event
from tests.i18n_pages import Stripper, detail_links, html_segments, page_leftovers, user_data_strings


def test_user_data_is_taken_out_longest_first_and_the_rest_is_reported():
    stripper = Stripper(["김하늘", "김하늘 (담임)", "이음초등학교"])
    assert stripper.leftovers("Teacher: 김하늘 (담임), 이음초등학교") == []
    assert stripper.leftovers("Case of 김하늘 — 지원 요청 sent") == ["Case of • — 지원 요청 sent"]
    # the page reflows text: a value matches across any run of whitespace
    assert stripper.leftovers("김하늘\n   (담임) signed in") == []


def test_short_values_do_not_eat_interface_words():
    data = {"구", "가", "중구"}
    stripper = Stripper(data)
    assert stripper.leftovers("Jung-gu 중구") == []
    assert stripper.leftovers("구분") == ["구분"]
    assert stripper.leftovers("Parent (구), Gu: 가") == []


def test_a_deliberately_untranslated_string_is_caught_once_per_page():
    stripper = Stripper(["박지원"])
    segments, _links = html_segments(
        '<html><head><title>Cases</title><script>var x = "스크립트";</script></head><body>'
        '<p>박지원</p><input type="hidden" name="back" value="숨김"><input placeholder="이름 검색">'
        '<button aria-label="닫기">x</button><img alt="로고"><p>저장</p><p>저장</p></body></html>')
    assert page_leftovers(segments, stripper) == ["이름 검색", "닫기", "로고", "저장"]


def test_detail_links_take_one_record_of_each_kind():
    uid1, uid2, uid3 = ("3f2b8a6e-0000-4000-8000-00000000000" + str(n) for n in (1, 2, 3))
    links = [f"/cases/{uid1}", f"/cases/{uid2}", f"/conferences/{uid3}", "/cases/new", "/cases/?page=2",
             "https://example.org/x", f"/agencies/referrals/{uid1}/edit", "/reports/school/export.csv", "/logout"]
    assert detail_links(links) == [f"/cases/{uid1}", f"/conferences/{uid3}"]


def test_the_database_values_are_user_data_but_stored_messages_are_not(app, db, build):
    school = build.school(name="해오름초등학교")
    build.organisation("district_office", name="서울특별시교육청")  # also a message of the footer
    build.agency(name="해오름보건소", agency_kind="보건소")  # the kind is a code shown through a label
    lead = build.user("school_lead", organisation=school, display_name="윤교감")
    case = build.case(school=school, lead=lead, student=build.student(school, actor=lead, name="강바다"))
    add_event(case, "status", _l("%(name)s 학생을 선정했습니다.", name="유별난값"), actor=lead)
    add_event(case, "status", _l("%(day)s 면담", day=dt.date(2026, 12, 8)), actor=lead)
    add_event(case, "note", "그대로 저장된 문장", actor=lead)
    add_event(case, "status", _l("%(status)s 상태입니다.", status="로그아웃되었습니다."), actor=lead)  # frozen label
    db.session.commit()
    data = user_data_strings()
    assert {"해오름초등학교", "서울특별시교육청", "윤교감", "강바다", "유별난값", "마포구", "한국어"} <= data
    assert "보건소" not in data and "해오름보건소" in data
    assert not any("선정했습니다" in value or "면담" in value for value in data)
    assert "그대로 저장된 문장" not in data  # a plain sentence in a message column is a leftover
    assert "로그아웃되었습니다." not in data  # a catalogue message passed as a parameter is interface text
    stripper = Stripper(data)
    assert stripper.leftovers("강바다 selected (해오름초등학교, 마포구)") == []
    assert stripper.leftovers("강바다 학생을 선정했습니다.") == ["• 학생을 선정했습니다."]
