"""form_fields.choice_controls renders a choice field's checkboxes or radio buttons exactly as
wtforms does when each choice is bound as a field of its own, without binding them."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import RadioField
from wtforms.validators import InputRequired, Optional

from app.cases.forms.consent import MultiCheckboxField
from app.form_fields import BaseForm, choice_controls


class ChoicesForm(BaseForm):
    agencies = MultiCheckboxField("기관", coerce=int, validators=[Optional()])
    kinds = MultiCheckboxField("종류", choices=[("a", "가 & 나"), ("b", _l("동의 목적")), ("<c>", '"따옴표"')])
    method = RadioField("방법", choices=[("written", "서면"), ("oral", "구두")], default="written",
                        validators=[InputRequired("방법을 선택해 주세요.")])
    extra = RadioField("속성", choices=[("x", "엑스")], render_kw={"data-role": "x"})


def wtforms_way(field) -> str:
    return "".join(f'<div class="krds-form-check">{option()} {option.label()}</div>' for option in field)


@pytest.mark.parametrize("formdata", [None, MultiDict([("agencies", "12"), ("kinds", "<c>"), ("kinds", "a"),
                                                       ("method", "oral"), ("extra", "x")])])
def test_the_controls_are_those_wtforms_renders(app, formdata):
    with app.test_request_context("/", method="POST" if formdata else "GET"):
        form = ChoicesForm(formdata=formdata, meta={"csrf": False})
        form.agencies.choices = [(12, "구립 센터 (가족센터)"), (7, "청소년<상담>센터")]
        for field in (form.agencies, form.kinds, form.method, form.extra):
            fast = choice_controls(field)
            assert isinstance(fast, Markup)
            assert str(fast) == wtforms_way(field), field.name
        if formdata:  # the chosen ones are checked, and only they
            assert str(choice_controls(form.agencies)).count("checked") == 1
            assert 'checked id="kinds-2"' in choice_controls(form.kinds)


def test_a_required_radio_marks_every_button_required_and_escapes_labels(app):
    with app.test_request_context("/"):
        form = ChoicesForm(meta={"csrf": False})
        form.agencies.choices = [(1, "<b>굵게</b>")]
        html = str(choice_controls(form.method))
        assert html.count(" required ") == 2 and 'checked id="method-0"' in html
        assert "&lt;b&gt;굵게&lt;/b&gt;" in choice_controls(form.agencies)
        assert choice_controls(ChoicesForm(meta={"csrf": False}).agencies) == ""  # no choices, no controls


def test_the_field_macro_renders_them_in_its_fieldset(app):
    with app.test_request_context("/"):
        form = ChoicesForm(meta={"csrf": False})
        form.agencies.choices = [(12, "구립 센터")]
        html = app.jinja_env.from_string('{% from "_macros.html" import field %}{{ field(f) }}').render(f=form.agencies)
        assert '<fieldset id="agencies"' in html
        assert '<input id="agencies-0" name="agencies" type="checkbox" value="12"> <label for="agencies-0">구립 센터</label>' in html
