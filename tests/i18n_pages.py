"""English mode: what Hangul is left on a page once user data is taken out (issue 15).

Shared by the browser test (tests/browser/test_english_mode.py) and the quick report tool the
translators run.  "User data" is every text value the database holds that a person typed or the
demo seed invented: names, school and agency names, 자치구 names, notes (decrypted through the
models' encrypted fields).  Stored messages (chronology lines, alerts) are not user data: they
are marked messages rendered in the reader's language, so only their *parameters* count, and a
plain Korean sentence stored in such a column is a leftover like any other.
"""
from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit
from app.db import today_kst

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
HANGUL_RUN = re.compile(r"[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]+")
#: attributes a person reads or hears
ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "value")
DATA_CSV = Path(__file__).resolve().parents[1] / "app" / "data" / "seoul_education_offices.csv"
#: a user value shorter than this is taken out only where it stands alone (no Hangul either side)
MIN_LENGTH = 2
CATALOGUE = Path(__file__).resolve().parents[1] / "app" / "translations" / "en" / "LC_MESSAGES"
#: (table, field) that are not user data: Korean words used as codes (shown through a label that
#: is translated), and the referral's copy of shared items (interface labels such as 해당 없음 in
#: it; the data in it has its own columns)
NOT_DATA = {("organisation", "agency_kind"), ("consent_purpose", "agency_kind"), ("referral", "shared")}


#: the inputs whose value attribute is their visible label (an option's or checkbox's value is
#: a code the server reads, and a text field's value is what a person typed)
BUTTON_TYPES = ("submit", "button", "reset")


def shows_value(tag: str, kind: str | None) -> bool:
    """Whether an element's value attribute is text a reader sees."""
    return tag.lower() == "input" and (kind or "").lower() in BUTTON_TYPES


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text or ""))


# --- user data -----------------------------------------------------------------------------

def _strings(value: Any) -> Iterable[str]:
    """Every string inside a value (JSON text, lists and dicts included)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "[{":
            try:
                yield from _strings(json.loads(stripped))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _strings(item)


def _message_parameters(packed: dict, interface: set[str]) -> Iterable[str]:
    """The parameters of a stored message: nested marked messages are interface text, and so is a
    parameter equal to a message of the catalogue (a label passed already translated, frozen)."""
    for value in (packed.get("a") or {}).values():
        if isinstance(value, dict) and ("$msg" in value or "$date" in value):
            continue
        yield from (s for s in _strings(value) if s.strip() not in interface)


def interface_messages() -> set[str]:
    """The Korean messages of the English catalogue (the compiled one, else the .po): a message
    parameter equal to one of them is interface text frozen into the database, not user data."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    mo = CATALOGUE / "messages.mo"
    with open(mo if mo.exists() else CATALOGUE / "messages.po", "rb") as fh:
        catalogue = read_mo(fh) if mo.exists() else read_po(fh)
    return {m.id for m in catalogue if m.id and isinstance(m.id, str)}


def user_data_strings() -> set[str]:
    """Every Hangul-bearing text value stored in the database (call inside an app context):
    plain columns, encrypted fields (decrypted), the parameters of stored messages, the 자치구 and
    office names of app/data.  Not user data: stored messages themselves (a plain sentence in a
    message column included), code and snapshot fields (NOT_DATA), message parameters that are a message
    of the catalogue."""
    import sqlalchemy as sa
    from sqlalchemy import select

    from app.db import EncryptedField, encrypted_fields_of
    from app.extensions import db
    from app.stored_messages import EncryptedMessage, StoredMessage

    found: set[str] = set()
    interface = interface_messages()
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if getattr(model, "__tablename__", None) is None:
            continue
        columns = [attr.key for attr in mapper.column_attrs
                   if any(isinstance(col.type, (sa.String, sa.Text, sa.JSON)) for col in attr.columns)
                   and (model.__tablename__, attr.key) not in NOT_DATA]
        fields = encrypted_fields_of(model)
        for row in db.session.execute(select(model)).scalars():
            for key in columns:
                found.update(_strings(getattr(row, key)))
            for name, field in fields.items():
                if (model.__tablename__, name) in NOT_DATA:
                    continue
                if isinstance(field, EncryptedMessage):
                    raw = EncryptedField.__get__(field, row, model)
                    if isinstance(raw, StoredMessage):
                        found.update(_message_parameters(raw.packed, interface))
                    continue  # a plain sentence in a message column is not data
                found.update(_strings(getattr(row, name)))
    # the switcher names each language in itself ("한국어"): that is meant to stay
    from app.i18n import LANGUAGE_NAMES
    found.update(LANGUAGE_NAMES.values())
    if DATA_CSV.exists():
        with open(DATA_CSV, encoding="utf-8") as fh:
            for line in csv.DictReader(fh):
                found.update(line.values())
    parts = set()
    for value in found:  # a multi-line note may be shown line by line
        parts.update(line.strip() for line in str(value).splitlines())
    return {s for s in found | parts if s and has_hangul(s)}


class Stripper:
    """Takes user data out of a text, longest value first, before looking for Hangul."""

    def __init__(self, data: Iterable[str]) -> None:
        values = sorted({d.strip() for d in data if d and d.strip()}, key=len, reverse=True)
        alternatives = []
        for value in values:
            # whitespace in a value matches any run of whitespace on the page (text is reflowed)
            body = r"\s+".join(map(re.escape, value.split()))
            # a one-syllable value (관계 "모") only where it stands alone, never inside a word
            alternatives.append(body if len(value) >= MIN_LENGTH else rf"(?<!{HANGUL.pattern}){body}(?!{HANGUL.pattern})")
        self.pattern = re.compile("|".join(alternatives)) if alternatives else None

    def strip(self, text: str) -> str:
        return self.pattern.sub(" \u2022 ", text) if self.pattern else text

    def leftovers(self, text: str, context: int = 18) -> list[str]:
        """The Hangul left after user data is taken out, with a little context (runs close together
        make one snippet)."""
        rest = re.sub(r"\s+", " ", self.strip(text or ""))
        windows: list[list[int]] = []
        for match in HANGUL_RUN.finditer(rest):
            start, end = max(0, match.start() - context), min(len(rest), match.end() + context)
            if windows and start <= windows[-1][1]:
                windows[-1][1] = end
            else:
                windows.append([start, end])
        return [rest[start:end].strip() for start, end in windows]


def page_leftovers(segments: Iterable[str], stripper: Stripper) -> list[str]:
    """The leftover snippets of a page's text segments, each once, in page order."""
    seen: dict[str, None] = {}
    for segment in segments:
        for snippet in stripper.leftovers(segment):
            seen.setdefault(snippet, None)
    return list(seen)


# --- pages ---------------------------------------------------------------------------------

class _Segments(HTMLParser):
    """Text segments (one per text node) and the read attributes of an HTML page."""

    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._in_main = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self._skip += 1
        if tag == "main":
            self._in_main += 1
        if tag == "a" and attrs.get("href") and "download" not in attrs:
            self.links.append(attrs["href"])
        if tag == "input" and (attrs.get("type") or "").lower() == "hidden":
            return
        for name in ATTRIBUTES:
            if attrs.get(name) and (name != "value" or shows_value(tag, attrs.get("type"))):
                self.segments.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag == "main" and self._in_main:
            self._in_main -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.segments.append(data)


def html_segments(html: str) -> tuple[list[str], list[str]]:
    """(text segments and read attributes, link hrefs) of an HTML page."""
    parser = _Segments()
    parser.feed(html)
    parser.close()
    return parser.segments, parser.links


ID_SEGMENT = re.compile(r"^(?=.*\d)[0-9a-zA-Z_-]{6,}$|^\d+$")
#: links never followed: they change something, download a file or leave the session
SKIP_LINK = re.compile(r"/(logout|lang|export|download|new|edit|print)\b|\.(csv|xlsx|pdf|txt)$")


def detail_links(hrefs: Iterable[str], per_pattern: int = 1) -> list[str]:
    """Links to one record of each kind (a path with an id segment), the first of each pattern."""
    chosen, counts = [], {}
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.query or SKIP_LINK.search(parts.path):
            continue
        segments = [s for s in parts.path.split("/") if s]
        if not any(ID_SEGMENT.match(s) for s in segments):
            continue
        pattern = "/".join("*" if ID_SEGMENT.match(s) else s for s in segments)
        if counts.get(pattern, 0) < per_pattern and parts.path not in chosen:
            counts[pattern] = counts.get(pattern, 0) + 1
            chosen.append(parts.path)
    return chosen


# --- the demo roles and their key pages ----------------------------------------------------

#: demo login -> role (app/demo/organisations.py); the password is chosen by whoever seeds
DEMO_LOGINS = {"demo-school": "school_staff", "demo-lead": "school_lead", "demo-coordinator": "district_coordinator",
               "demo-guardian": "guardian", "demo-agency": "agency_coordinator", "demo-auditor": "auditor",
               "demo-admin": "admin"}
#: detail pages visited per role at most (one per kind of record)
MAX_DETAILS = 12


def extra_pages(role: str, today=None) -> list[str]:
    """Key pages a role reaches often that are not in the menu (the audit search with results …)."""
    import datetime as dt

    month_ago = ((today or today_kst()) - dt.timedelta(days=30)).isoformat()
    pages = ["/account"]
    if role == "auditor":
        pages += ["/audit/?actor=demo-lead", f"/audit/?start={month_ago}", "/audit/?outcome=denied"]
    if role == "district_coordinator":
        pages += ["/agencies/referrals/overdue", "/reports/district"]
    if role in ("school_staff", "school_lead"):
        pages += ["/reports/school", "/conferences/my-work?show=actions", "/conferences/my-work?show=reviews"]
    return pages


def seed_demo(password: str, strict: bool = True) -> list[str]:
    """The demo data of ``flask demo seed``, every account with ``password`` (inside an app context;
    the seeders are called as the command calls them, without its progress bar).  ``strict=False``
    (the report tool, while code is being changed) skips a seeder that fails and returns its error."""
    import importlib
    import importlib.util

    from app.demo import cli, organisations
    from app.extensions import db

    organisations.seed({login: password for login, *_ in organisations.DEMO_USERS})
    skipped = []
    for name in cli.FEATURE_SEEDERS:
        if not importlib.util.find_spec(f"app.demo.{name}"):
            continue
        if strict:
            importlib.import_module(f"app.demo.{name}").seed()
            continue
        savepoint = db.session.begin_nested()
        try:
            importlib.import_module(f"app.demo.{name}").seed()
            savepoint.commit()
        except Exception as err:  # noqa: BLE001  (reported, the rest of the demo still loads)
            savepoint.rollback()
            skipped.append(f"demo seeder {name} failed: {type(err).__name__}: {err}")
    db.session.commit()
    return skipped
