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
