"""The statistics pages in English (issue 15) and their landmarks (axe "landmark-unique"): every
label, status, unit and suppression text comes from the catalogue; only user data (school names)
stays as typed.  English needs the compiled catalogue (scripts/setup)."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from .test_views import people, sign_in  # noqa: F401  (fixture)

HANGUL = re.compile(r"[\uac00-\ud7a3]+")
#: user data of the ``district`` fixture: its office and school names
USER_DATA = ("서부교육지원청", "가나초등학교", "다라중학교")
LANDMARK_TAGS = {"header": "banner", "footer": "contentinfo", "nav": "navigation", "main": "main", "aside": "complementary"}


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def _translated(app) -> bool:
    with app.test_request_context():
        from flask import session
        from flask_babel import gettext, refresh
        session["lang"] = "en"
        refresh()
        return gettext("상태별 사례") != "상태별 사례"


class Landmarks(HTMLParser):
    """(role, accessible name) of every landmark: sections and forms count when they are named."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.labelled: list[tuple[str, list[str]]] = []
        self.texts: dict[str, list[str]] = {}
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.texts[a["id"]] = []
            self.open.append(a["id"])
        else:
            self.open.append("")
        role = a.get("role") or LANDMARK_TAGS.get(tag) or {"section": "region", "form": "form"}.get(tag)
        if role not in ("banner", "contentinfo", "navigation", "main", "complementary", "region", "form", "search"):
            return
        if a.get("aria-labelledby"):
            self.labelled.append((role, a["aria-labelledby"].split()))
        elif a.get("aria-label") or role not in ("region", "form"):
            self.found.append((role, a.get("aria-label") or ""))

    def handle_endtag(self, tag):
        if self.open:
            self.open.pop()

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_data(self, data):
        for ident in self.open:
            if ident:
                self.texts[ident].append(data)

    def names(self) -> list[tuple[str, str]]:
        named = [(role, " ".join(" ".join("".join(self.texts.get(i, [])).split()) for i in ids))
                 for role, ids in self.labelled]
        return self.found + named


def landmarks(html: str) -> list[tuple[str, str]]:
    parser = Landmarks()
    parser.feed(html)
    return parser.names()


@pytest.mark.parametrize("role, path", [("lead", "/reports/school"), ("coordinator", "/reports/district"),
                                        ("auditor", "/reports/city"), ("auditor", "/reports/city?group=gu")])
def test_every_landmark_has_a_name_of_its_own(app, people, district, role, path):
    html = sign_in(app, people[role]).get(path + ("&" if "?" in path else "?") + "period=year&year=2026").get_data(
        as_text=True)
    twice = [name for name, n in Counter(landmarks(html)).items() if n > 1]
    assert not twice, f"landmarks sharing a role and a name on {path}: {twice}"


def test_the_district_page_in_english(app, people, district):
    if not _translated(app):
        pytest.skip("the English catalogue is not compiled (scripts/setup)")
    client = english(sign_in(app, people["coordinator"]))
    html = client.get("/reports/district?period=semester&year=2026&semester=1").get_data(as_text=True)
    for phrase in ("District office statistics", "Cases by status", "Requests, selections and closures by month",
                   "School year 2026, semester 1", "Under 5",
                   "(median)", "Support plan deadlines"):
        assert phrase in html, phrase
    printed = client.get("/reports/district/report?period=semester&year=2026&semester=1").get_data(as_text=True)
    assert "School year 2026, semester 1: " in printed and "requests" in printed
    for page in (html.split("<main", 1)[1], printed):
        visible = re.sub(r"<[^>]+>", " ", page)
        for name in USER_DATA:
            visible = visible.replace(name, "")
        assert not HANGUL.findall(visible), sorted(set(re.findall(r".{0,30}[\uac00-\ud7a3]+.{0,10}", visible)))


def test_the_city_page_and_the_downloads_in_english(app, people, district):
    if not _translated(app):
        pytest.skip("the English catalogue is not compiled (scripts/setup)")
    client = english(sign_in(app, people["auditor"]))
    html = client.get("/reports/city?group=gu&period=year&year=2025").get_data(as_text=True)
    assert "Seoul statistics" in html and "Mapo" in html
    visible = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
    assert not HANGUL.findall(visible), sorted(set(re.findall(r".{0,30}[\uac00-\ud7a3]+.{0,10}", visible)))
    text = client.get("/reports/city/export.csv?period=year&year=2025").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Covers", "Seoul Metropolitan Office of Education"] in rows
    assert any(r and r[0] == "[Cases by status]" for r in rows)
    assert not HANGUL.findall(text), sorted(set(HANGUL.findall(text)))[:20]
