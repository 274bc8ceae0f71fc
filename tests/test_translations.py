"""The English catalogue is complete: every marked string is in it, translated, with its placeholders.

Three checks over app/translations/en/LC_MESSAGES/messages.po (the committed source; .mo files are
compiled by scripts/setup):

* no entry has an empty msgstr and none is marked fuzzy;
* every message the code marks today (templates and Python, extracted with babel.cfg and the same
  keywords as the documented ``pybabel extract`` command) has an entry;
* each translation carries exactly the placeholders of its msgid (``%(name)s``, ``%s``, ``{name}``).

These tests read files only; they need no database or app.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
BABEL_CFG = ROOT / "babel.cfg"
# The same keywords as `pybabel extract -k _l -k lazy_gettext -k N_ -k lazy_pgettext:1c,2` (on top of babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None, "lazy_pgettext": ((1, "c"), 2)}

UPDATE_HELP = (
    "Update the English catalogue from the code, then translate the new entries "
    "(no empty msgstr, no '#, fuzzy'):\n"
    "  .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k lazy_pgettext:1c,2 -o /tmp/messages.pot .\n"
    "  .venv/bin/pybabel update -i /tmp/messages.pot -d app/translations --no-fuzzy-matching\n"
    f"and edit {CATALOGUE.relative_to(ROOT)}."
)

# %(name)s, %s, %d ... (not the escaped %%) and {name} / {0} / {} (str.format style).
PERCENT = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdifFeEgGrxXc]")
BRACES = re.compile(r"\{[A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
# A Korean particle slot: a placeholder glued to the one before it ("%(label)s%(eul)s 입력해 주세요",
# "'%(new)s'%(ro)s"); words.particle() fills it, and an English translation leaves it out.
PARTICLE_SLOT = re.compile(r"%\([^)]+\)[sd]['\"’)\]]?(%\([A-Za-z_]+\)s)")


def _catalogue():
    with CATALOGUE.open("rb") as fileobj:
        return read_po(fileobj, locale="en")


def _forms(value) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def _placeholders(text: str) -> set[str]:
    text = text.replace("%%", "")
    return set(PERCENT.findall(text)) | set(BRACES.findall(text))


def _particle_slots(text: str) -> set[str]:
    return set(PARTICLE_SLOT.findall(text.replace("%%", "")))


def _extracted() -> dict[tuple[str, str | None], str]:
    """Every marked message in the code: (msgid, context) -> "file:line" of its first use."""
    with BABEL_CFG.open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(BABEL_CFG))
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((_key(message), context), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    return _catalogue()


def _entries(catalogue):
    return [message for message in catalogue if message.id]


def test_catalogue_is_not_trivially_small(catalogue):
    # Guards the other tests against reading an empty or wrong file.
    assert len(_entries(catalogue)) > 100


def test_no_empty_translation(catalogue):
    empty = [
        f"line {message.lineno}: {_key(message.id)!r}"
        for message in _entries(catalogue)
        if not all(form.strip() for form in _forms(message.string))
    ]
    if empty:
        pytest.fail(f"{len(empty)} catalogue entries have no English:\n" + "\n".join(empty[:50]), pytrace=False)


def test_no_fuzzy_entry(catalogue):
    fuzzy = [f"line {message.lineno}: {_key(message.id)!r}" for message in _entries(catalogue) if message.fuzzy]
    if fuzzy:
        pytest.fail(
            f"{len(fuzzy)} entries are marked '#, fuzzy' (a guessed translation Flask-Babel ignores); "
            "translate them and remove the flag:\n" + "\n".join(fuzzy[:50]),
            pytrace=False,
        )


def test_every_marked_message_is_in_the_catalogue(catalogue):
    known = {(_key(message.id), message.context) for message in _entries(catalogue)}
    extracted = _extracted()
    assert extracted, "extraction found nothing: is babel.cfg still at the repository root?"
    missing = sorted(set(extracted) - known, key=lambda key: extracted[key])
    listing = "\n".join(f"  {extracted[key]}: {key[0]!r}" for key in missing[:80])
    if missing:
        pytest.fail(f"{len(missing)} marked messages are not in the English catalogue:\n{listing}\n{UPDATE_HELP}",
                    pytrace=False)


def test_translations_keep_the_placeholders(catalogue):
    """Each translation has the msgid's placeholders: one it adds would raise KeyError at run time,
    one it drops loses information. Only a Korean particle slot may be dropped."""
    wrong = []
    for message in _entries(catalogue):
        ids = _forms(message.id)
        expected = set().union(*(_placeholders(text) for text in ids))
        optional = set().union(*(_particle_slots(text) for text in ids))
        strings = [form for form in _forms(message.string) if form]
        if not strings:
            continue  # reported by test_no_empty_translation
        # A plural form may leave the count out ("one case"), so plural entries compare the union.
        groups = [set().union(*(_placeholders(text) for text in strings))]
        if not message.pluralizable:
            groups += [_placeholders(text) for text in strings]
        if any("%" in PERCENT.sub("", text.replace("%%", "")) for text in strings):
            wrong.append(f"line {message.lineno}: {ids[0]!r} has a lone '%' in the English (write %% for a percent sign)")
            continue
        for got in groups:
            if got - expected or (expected - got) - optional:
                wrong.append(f"line {message.lineno}: {ids[0]!r} has {sorted(expected)}, English has {sorted(got)}")
                break
    if wrong:
        pytest.fail("translations whose placeholders differ from the msgid:\n" + "\n".join(wrong[:50]), pytrace=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%(n)s건 중 %(total)s건", {"%(n)s", "%(total)s"}),
        ("100%% 완료 %d", {"%d"}),
        ("{name} 님, {0}", {"{name}", "{0}"}),
        ("평범한 문장", set()),
    ],
)
def test_placeholder_pattern(text, expected):
    assert _placeholders(text) == expected


def test_particle_slot_pattern():
    assert _particle_slots("%(label)s%(eul)s 입력해 주세요.") == {"%(eul)s"}
    assert _particle_slots("'%(old)s'에서 '%(new)s'%(ro)s 바꿀 수 없습니다.") == {"%(ro)s"}
    assert _particle_slots("%(n)s건 중 %(total)s건") == set()
