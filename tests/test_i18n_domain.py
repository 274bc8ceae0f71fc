"""app.i18n.RequestDomain: a request finds its translations once, and still follows a language
switch (refresh) and force_locale."""
from __future__ import annotations

import flask_babel
from flask import session
from flask_babel import force_locale, gettext, lazy_gettext as _l, refresh

from app.i18n import RequestDomain


def _count_lookups(monkeypatch) -> list:
    found = []
    original = flask_babel.Domain.get_translations

    def counted(self):
        found.append(1)
        return original(self)
    monkeypatch.setattr(flask_babel.Domain, "get_translations", counted)
    return found


def test_a_request_looks_its_translations_up_once(app, monkeypatch):
    found = _count_lookups(monkeypatch)
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert isinstance(flask_babel.get_domain(), RequestDomain)
        texts = {gettext("기관 의뢰") for _ in range(40)} | {str(_l("기관 의뢰")) for _ in range(40)}
        html = app.jinja_env.from_string("{% for i in range(40) %}{{ _('기관 의뢰') }}{% endfor %}").render()
    assert texts == {"Agency referrals"} and html == "Agency referrals" * 40
    assert len(found) == 1  # Flask-Babel's own lookup ran for the first message only


def test_a_language_switch_in_the_request_takes_effect(app):
    with app.test_request_context("/"):
        assert gettext("기관 의뢰") == "기관 의뢰"
        session["lang"] = "en"
        refresh()  # as the language switcher does
        assert gettext("기관 의뢰") == "Agency referrals"
        assert app.jinja_env.from_string("{{ _('기관 의뢰') }}").render() == "Agency referrals"


def test_force_locale_translates_inside_and_restores_after(app):
    with app.test_request_context("/"):
        assert gettext("기관 의뢰") == "기관 의뢰"
        with force_locale("en"):
            assert gettext("기관 의뢰") == "Agency referrals"
            assert str(_l("기관 의뢰")) == "Agency referrals"
        assert gettext("기관 의뢰") == "기관 의뢰"


def test_outside_an_app_context_messages_stay_as_written():
    assert gettext("기관 의뢰") == "기관 의뢰"
    assert str(_l("기관 의뢰")) == "기관 의뢰"
