"""Flask-Babel: Korean by default, English on request; dates shown in KST."""
from flask import request, session
from flask_babel import format_date, format_datetime

from .extensions import babel


def select_locale() -> str:
    from flask import current_app
    chosen = session.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    app.jinja_env.filters["kdate"] = lambda d: format_date(d, "yyyy. M. d.") if d else ""
    app.jinja_env.filters["kdatetime"] = lambda d: format_datetime(d, "yyyy. M. d. HH:mm") if d else ""
    app.jinja_env.globals["current_path"] = lambda: request.full_path.rstrip("?")
