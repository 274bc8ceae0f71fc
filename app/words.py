"""Words for people: Korean particles chosen from the word, and dates and day counts written the
way a reader of the page's language expects (2026. 12. 8. · 12월 8일 (화) · 3일 지남 in Korean;
8 Dec 2026 · Tue 8 Dec · 3 days overdue in English).  ISO dates are for machines (exports,
audit details, URLs), never for a sentence a person reads.

    josa("번호", "은/는")  -> "번호는"        josa("학년", "을/를") -> "학년을"
    josa("서울", "으로/로") -> "서울로"        (a word ending in ㄹ takes 로)
"""
from __future__ import annotations

import datetime as dt
import re

#: particle pair -> (after a final consonant, after a vowel); "으로/로" has its ㄹ rule
PARTICLES = {"은/는": ("은", "는"), "이/가": ("이", "가"), "을/를": ("을", "를"), "과/와": ("과", "와"),
             "와/과": ("과", "와"), "으로/로": ("으로", "로"), "이나/나": ("이나", "나"), "이다/다": ("이다", "다"),
             "이에요/예요": ("이에요", "예요"), "아/야": ("아", "야"), "이라/라": ("이라", "라")}
#: the final consonant a digit or Latin letter is read with (일, 이, 삼 … ; 엘, 엠, 엔, 알 …)
_DIGIT_HAS_FINAL = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False, "6": True, "7": True,
                    "8": True, "9": False}
_DIGIT_RIEUL = {"1", "7", "8"}  # 일, 칠, 팔 end in ㄹ
_LATIN_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # index of ㄹ among the 28 final-consonant slots
WEEKDAYS_KO = "월화수목금토일"
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)$")


def _final(word: str) -> tuple[bool, bool]:
    """(has a final consonant, that consonant is ㄹ) of the last readable character; a closing
    parenthetical is not read ("전화번호(선택)" takes the particle of 전화번호)."""
    word = _PARENTHETICAL.sub("", word.strip()) or word.strip()
    for char in reversed(word):
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            tail = (code - _HANGUL_FIRST) % 28
            return tail != 0, tail == _RIEUL
        if char.isdigit():
            return _DIGIT_HAS_FINAL[char], char in _DIGIT_RIEUL
        if char.isalpha():
            final = _LATIN_FINAL.get(char.lower())
            return final is not None, final == "ㄹ"
        # closing brackets, quotes and spaces are not read: look further left
    return False, False


def particle(word: str, pair: str) -> str:
    """The form of ``pair`` ("은/는", "을/를" …) that follows ``word``."""
    with_final, without = PARTICLES[pair]
    has_final, rieul = _final(word)
    if pair == "으로/로" and rieul:
        return without
    return with_final if has_final else without


def josa(word: str, pair: str) -> str:
    """``word`` followed by the right particle: josa("번호", "은/는") == "번호는"."""
    return f"{word}{particle(word, pair)}"


# -- dates ---------------------------------------------------------------------------------------

def date_text(day: dt.date | None, language: str = "ko") -> str:
    """A date in a sentence: "2026. 12. 8." / "8 Dec 2026"."""
    if day is None:
        return ""
    if language == "en":
        return f"{day.day} {day:%b} {day.year}"
    return f"{day.year}. {day.month}. {day.day}."


def short_date_text(day: dt.date | None, language: str = "ko") -> str:
    """A near date with its weekday: "12월 8일 (화)" / "Tue 8 Dec"."""
    if day is None:
        return ""
    if language == "en":
        return f"{day:%a} {day.day} {day:%b}"
    return f"{day.month}월 {day.day}일 ({WEEKDAYS_KO[day.weekday()]})"


def month_text(year: int, month: int, language: str = "ko") -> str:
    """A month heading: "2026년 12월" / "December 2026"."""
    return f"{dt.date(year, month, 1):%B %Y}" if language == "en" else f"{year}년 {month}월"


def due_text(due: dt.date | None, today: dt.date, language: str = "ko") -> str:
    """How a deadline stands today: "3일 지남" / "오늘까지" / "2일 남음" (English alike)."""
    if due is None:
        return ""
    days = (due - today).days
    if language == "en":
        if days == 0:
            return "due today"
        unit = "day" if abs(days) == 1 else "days"
        return f"{-days} {unit} overdue" if days < 0 else f"{days} {unit} left"
    if days == 0:
        return "오늘까지"
    return f"{-days}일 지남" if days < 0 else f"{days}일 남음"
