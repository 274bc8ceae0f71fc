"""Particles chosen from the word and dates written for people (app/words.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from app.words import date_text, due_text, josa, month_text, particle, short_date_text


@pytest.mark.parametrize("word, pair, expected", [
    ("번호", "은/는", "번호는"), ("학년", "은/는", "학년은"), ("학년", "을/를", "학년을"), ("반", "을/를", "반을"),
    ("보호자", "이/가", "보호자가"), ("담임", "이/가", "담임이"), ("학교", "과/와", "학교와"), ("교육청", "와/과", "교육청과"),
    ("서울", "으로/로", "서울로"), ("학교", "으로/로", "학교로"), ("교육청", "으로/로", "교육청으로"),
    ("전화번호(선택)", "을/를", "전화번호(선택)를"), ("'지원 시작'", "을/를", "'지원 시작'을"),
    ("NEIS", "을/를", "NEIS를"), ("email", "을/를", "email을"), ("1", "이/가", "1이"), ("2", "이/가", "2가"),
    ("3", "으로/로", "3으로"), ("7", "으로/로", "7로"), ("", "은/는", "는"),
])
def test_particles_follow_the_last_syllable(word, pair, expected):
    assert josa(word, pair) == expected
    assert particle(word, pair) == expected[len(word):]


def test_an_unknown_pair_is_a_programming_error():
    with pytest.raises(KeyError):
        josa("학년", "을(를)")


def test_dates_for_people_in_both_languages():
    day = dt.date(2026, 12, 8)
    assert date_text(day) == "2026. 12. 8." and date_text(day, "en") == "8 Dec 2026"
    assert short_date_text(day) == "12월 8일 (화)" and short_date_text(day, "en") == "Tue 8 Dec"
    assert month_text(2026, 12) == "2026년 12월" and month_text(2026, 12, "en") == "December 2026"
    assert date_text(None) == short_date_text(None) == ""


@pytest.mark.parametrize("offset, ko, en", [(-3, "3일 지남", "3 days overdue"), (-1, "1일 지남", "1 day overdue"),
                                            (0, "오늘까지", "due today"), (2, "2일 남음", "2 days left")])
def test_deadlines_read_as_days_over_or_left(offset, ko, en):
    today = dt.date(2026, 12, 1)
    due = today + dt.timedelta(days=offset)
    assert due_text(due, today) == ko and due_text(due, today, "en") == en


# -- the Jinja filters and the helpers of app.i18n: the page's language, the user's time zone -----

def _render(app, source: str, language: str | None = None, **values) -> str:
    from flask import render_template_string, session
    with app.test_request_context("/"):
        if language:
            session["lang"] = language
        return render_template_string(source, **values)


@pytest.mark.parametrize("language, expected", [
    (None, "2026. 12. 8.|2026. 12. 8. 09:05|12월 8일 (화)|2026년 12월|3일 지남|오늘까지|2일 남음"),
    ("en", "8 Dec 2026|8 Dec 2026 09:05|Tue 8 Dec|December 2026|3 days overdue|due today|2 days left"),
])
def test_filters_write_dates_in_the_pages_language(app, language, expected):
    day = dt.date(2026, 12, 8)
    moment = dt.datetime(2026, 12, 8, 0, 5)  # UTC: 09:05 in Seoul
    source = ("{{ d|kdate }}|{{ m|kdatetime }}|{{ d|kshort }}|{{ d|kmonth }}|{{ d|due(d + a) }}|{{ d|due(d) }}"
              "|{{ d|due(d - b) }}")
    assert _render(app, source, language, d=day, m=moment, a=dt.timedelta(days=3), b=dt.timedelta(days=2)) == expected


def test_a_datetime_is_dated_by_its_day_in_seoul(app):
    late = dt.datetime(2026, 12, 7, 16, 30)  # UTC: already 8 December 01:30 in Seoul
    assert _render(app, "{{ m|kdate }} {{ m|kshort }}", m=late) == "2026. 12. 8. 12월 8일 (화)"


def test_filters_leave_empty_and_undecryptable_values_alone(app):
    assert _render(app, "[{{ n|kdate }}][{{ n|kdatetime }}][{{ n|kshort }}][{{ n|due }}][{{ u|kdate }}]",
                   n=None, u="(읽을 수 없음)") == "[][][][][(읽을 수 없음)]"


def test_date_words_follow_the_request_and_korean_date_stays_korean(app):
    from flask import session

    from app.i18n import date_words, korean_date
    day = dt.date(2026, 3, 2)
    assert date_words(day) == korean_date(day) == "2026. 3. 2."  # no request: the default language
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert date_words(day) == "2 Mar 2026" and korean_date(day) == "2026. 3. 2."
