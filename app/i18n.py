"""Flask-Babel: Korean by default, English on request; dates shown in KST."""
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale

from .extensions import babel

def korean_date(day) -> str:
    """'2026. 12. 8.': the Korean way to write a date in a sentence (alerts, chronology lines)."""
    if isinstance(day, str):  # the stand-in of an undecryptable date (app.db.Unreadable)
        return day
    return f"{day.year}. {day.month}. {day.day}." if day else ""


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


def other_languages() -> list[tuple[str, str]]:
    """(code, name) of every language the switcher offers besides the current one."""
    here = current_language()
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"] if code != here]


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    # a str is the stand-in of an undecryptable date (app.db.Unreadable): shown as it is
    app.jinja_env.filters["kdate"] = lambda d: d if isinstance(d, str) else (format_date(d, "yyyy. M. d.") if d else "")
    app.jinja_env.filters["kdatetime"] = lambda d: format_datetime(d, "yyyy. M. d. HH:mm") if d else ""
    app.jinja_env.globals.update(current_path=lambda: request.full_path.rstrip("?"),
                                 current_language=current_language, other_languages=other_languages)
