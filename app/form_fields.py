"""Form fields shared by every feature's forms, and ``BaseForm``, the base of every form.

``BaseForm`` strips characters nobody types from every text field before validation: C0 control
characters (tab and line breaks kept) and the invisible direction marks and overrides that make
a note read differently from what is stored ("Trojan Source").  NUL never gets this far: a
request carrying one is refused at the door (app/input_guard.py).

``DateField`` accepts only dates a person could mean (1900–2199): a year such as 0001 or 9999
parses, but overflows date arithmetic ("a day later") and SQL comparisons, which answered 500.
"""
from __future__ import annotations

import datetime as dt
import re

import wtforms
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape

from .i18n import date_words
from .submissions import new_token

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


class DateField(wtforms.DateField):
    """wtforms.DateField refusing dates outside EARLIEST..LATEST with a message beside the field."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not EARLIEST <= self.data <= LATEST:
            self.data = None
            raise ValueError(gettext("%(first)s부터 %(last)s 사이의 날짜를 입력해 주세요.",
                                     first=date_words(EARLIEST), last=date_words(LATEST)))


#: C0 controls but tab, LF and CR; DEL; bidirectional embeddings, overrides, isolates and marks
INVISIBLE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(value):
    """A text value without invisible control characters; anything else (and a clean text, which
    may be a str subclass such as an undecryptable value's stand-in) as it is."""
    if not isinstance(value, str):
        return value
    cleaned = INVISIBLE_CONTROLS.sub("", value)
    return value if cleaned == value else cleaned


class BaseForm(FlaskForm):
    """FlaskForm whose every field strips invisible control characters from its data, and
    whose every form sent by POST carries a one-time token so that it is acted on once
    (app/submissions.py; ``once = False`` where a replay would hide what only the first answer
    shows)."""

    once = True
    submission = wtforms.HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.once or getattr(type(self.meta), "csrf", None) is False:  # a GET search: no token in its URL
            del self.submission
        elif not self.submission.data:
            self.submission.data = new_token()

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", ()), strip_controls]
            return unbound_field.bind(form=form, filters=filters, **options)


def choice_controls(field) -> Markup:
    """The checkboxes or radio buttons of a choice field, each ``<input> <label>`` in a
    ``krds-form-check`` div: the HTML of ``{% for choice in field %}{{ choice() }} {{ choice.label() }}``
    without binding one wtforms field per choice (a case page's consent form lists the ~170
    agencies of its office: binding them was a third of the page's rendering at Seoul scale).
    A field with render arguments of its own goes the wtforms way."""
    choices = list(field.iter_choices())
    if field.render_kw or any(len(choice) == 4 and choice[3] for choice in choices):
        return Markup("").join(Markup('<div class="krds-form-check">%s %s</div>') % (option(), option.label())
                               for option in field)
    kind = field.option_widget.input_type
    flags = " ".join(name for name in ("disabled",) if field.flags.disabled)
    required = " required" if field.flags.required else ""
    name = escape(field.name)
    parts = []
    for i, (value, label, checked, *_kw) in enumerate(choices):
        ident = escape(f"{field.id}-{i}")
        parts.append(f'<div class="krds-form-check"><input {"checked " if checked else ""}{flags + " " if flags else ""}'
                     f'id="{ident}" name="{name}"{required} type="{kind}" value="{escape(value)}"> '
                     f'<label for="{ident}">{escape(label)}</label></div>')
    return Markup("".join(parts))


def init_app(app) -> None:
    app.jinja_env.filters["choice_controls"] = choice_controls
