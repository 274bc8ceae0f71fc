"""Flask-Babel: Korean by default, English on request; dates shown in KST, written for people
(app.words: "2026. 12. 8." / "8 Dec 2026"), never as ISO in a sentence."""
import datetime as dt

import flask_babel
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Domain, get_locale, to_user_timezone

from .db import today_kst
from .extensions import babel
from .stored_messages import render_value
from .words import date_text, due_text, month_text, short_date_text


def korean_date(day) -> str:
    """'2026. 12. 8.': a date inside a stored Korean sentence (alerts, chronology lines, CLI output)."""
    if isinstance(day, str):  # the stand-in of an undecryptable date (app.db.Unreadable)
        return day
    return date_text(day, "ko") if day else ""


def date_words(day) -> str:
    """A date in a sentence shown now (an error, a flash): in the page's language."""
    if isinstance(day, str):
        return day
    return date_text(day, language()) if day else ""


def N_(text: str) -> str:
    """Marks a message for pybabel extract where it cannot be translated yet (translate it later)."""
    return text


#: language code -> its own name, as the switcher shows it
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def select_locale() -> str:
    """The language chosen with the switcher (kept in the session), else Korean."""
    if not has_request_context():  # a command, an export or a test: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The code of the language this page is rendered in (for <html lang>)."""
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def language() -> str:
    """The page's language in a request, else the default (a command, a stored alert): "ko"."""
    if has_request_context():
        return current_language()
    return current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "ko"


def _local_day(value) -> dt.date:
    """A datetime (UTC) as the user's calendar day; a date as it is."""
    return to_user_timezone(value).date() if isinstance(value, dt.datetime) else value


def date_filter(value) -> str:
    """``kdate``: "2026. 12. 8." / "8 Dec 2026"; a str (an undecryptable date) as it is."""
    if isinstance(value, str) or not value:
        return value or ""
    return date_text(_local_day(value), language())


def datetime_filter(value) -> str:
    """``kdatetime``: "2026. 12. 8. 09:05" / "8 Dec 2026 09:05", in the user's time zone."""
    if not value:
        return ""
    local = to_user_timezone(value)
    return f"{date_text(local.date(), language())} {local:%H:%M}"


def short_date_filter(value) -> str:
    """``kshort``: a near date with its weekday, "12월 8일 (화)" / "Tue 8 Dec"."""
    if isinstance(value, str) or not value:
        return value or ""
    return short_date_text(_local_day(value), language())


def month_filter(value) -> str:
    """``kmonth``: a date's month as a heading, "2026년 12월" / "December 2026"."""
    return month_text(value.year, value.month, language()) if value else ""


def due_filter(value, today: dt.date | None = None) -> str:
    """``due``: how a deadline stands, "3일 지남" / "오늘까지" / "2일 남음" (today: KST)."""
    if isinstance(value, str) or not value:
        return ""
    return due_text(_local_day(value), today or today_kst(), language())


def other_languages() -> list[tuple[str, str]]:
    """(code, name) of every language the switcher offers besides the current one."""
    here = current_language()
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"] if code != here]


def _babel_context():
    """Flask-Babel's per-context namespace (None before its first use), with one proxy lookup
    where ``flask_babel._get_current_context`` makes three (~5 µs)."""
    return g._get_current_object().__dict__.get("_flask_babel")


class RequestDomain(Domain):
    """Flask-Babel's message domain, keeping the translations of the page's language for the rest
    of the request: Flask-Babel finds them again for every message (three context lookups each for
    the domain, the translations and the locale, then the locale's name: ~15 µs a message), and a
    case page translates ~400 messages.  What is kept is checked against the locale in force, so
    ``force_locale`` (an alert in its recipient's language) and ``refresh()`` still take effect."""

    def get_translations(self):
        try:
            babel_context = _babel_context()
        except RuntimeError:  # no app context: Flask-Babel's null translations
            return super().get_translations()
        locale = getattr(babel_context, "babel_locale", None)
        kept = getattr(babel_context, "ieum_translations", None)
        if locale is not None and kept is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()
        babel_context = g.get("_flask_babel")  # made by super() if this was the first message
        if babel_context is not None:
            babel_context.ieum_translations = (getattr(babel_context, "babel_locale", None), translations)
        return translations


def request_domain() -> Domain:
    """``flask_babel.get_domain`` with one context lookup: the domain a request set with
    ``Domain.as_default()``, else the app's RequestDomain; outside an app context, Flask-Babel's
    own answer (a domain with null translations)."""
    try:
        babel_context = _babel_context()
    except RuntimeError:
        return Domain()
    return getattr(babel_context, "babel_domain", None) or babel.domain_instance


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    babel.domain_instance = RequestDomain()  # replaces Flask-Babel's (a cached property) for every app
    flask_babel.get_domain = request_domain  # what flask_babel.gettext, lazy_gettext and Jinja's _() call
    # a str is the stand-in of an undecryptable date (app.db.Unreadable): shown as it is
    app.jinja_env.filters.update(kdate=date_filter, kdatetime=datetime_filter, kshort=short_date_filter,
                                 kmonth=month_filter, due=due_filter, stored=render_value)
    app.jinja_env.globals.update(current_path=lambda: request.full_path.rstrip("?"),
                                 current_language=current_language, other_languages=other_languages)
