"""Student forms: shape checks only (with translatable messages); services enforce the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from ..form_fields import BaseForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from ..csv_import import CsvUploadForm, csv_file_field
from ..form_fields import DateField
from ..words import particle

PHONE = Regexp(r"^[0-9+][0-9\- ]{6,18}$", message=_l("전화번호는 숫자와 '-'로 입력해 주세요. (예: 010-1234-5678)"))
DATE_HINT = _l("날짜를 2014-03-05 형식으로 입력해 주세요.")


def _required(label: str):
    """InputRequired with "학년을 입력해 주세요." (the particle chosen from the Korean word)."""
    return InputRequired(_l("%(label)s%(eul)s 입력해 주세요.", label=_l(label), eul=particle(label, "을/를")))


class StudentForm(BaseForm):
    """Everything a school records about a student; the same form registers and edits."""

    name = StringField(_l("이름"), validators=[DataRequired(_l("이름을 입력해 주세요.")), Length(max=50, message=_l("이름은 50자 이내로 입력해 주세요."))],
                       render_kw={"autocomplete": "off"})
    birth_date = DateField(_l("생년월일"), validators=[InputRequired(_l("생년월일을 입력해 주세요."))])
    grade = IntegerField(_l("학년"), validators=[_required("학년")], render_kw={"min": 1, "max": 12, "inputmode": "numeric"})
    class_no = IntegerField(_l("반"), validators=[_required("반")], render_kw={"min": 1, "max": 30, "inputmode": "numeric"})
    number = IntegerField(_l("번호"), validators=[_required("번호")], render_kw={"min": 1, "max": 99, "inputmode": "numeric"})
    neis_number = StringField(_l("학생 개인번호(NEIS)"), validators=[Optional(), Length(max=30, message=_l("30자 이내로 입력해 주세요."))])
    phone = StringField(_l("학생 연락처"), validators=[Optional(), PHONE], render_kw={"inputmode": "tel"})
    address = StringField(_l("주소"), validators=[Optional(), Length(max=200, message=_l("200자 이내로 입력해 주세요."))])
    parent_name = StringField(_l("보호자 이름"), validators=[Optional(), Length(max=50, message=_l("50자 이내로 입력해 주세요."))])
    parent_relation = StringField(_l("학생과의 관계"), validators=[Optional(), Length(max=20, message=_l("20자 이내로 입력해 주세요."))],
                                  render_kw={"placeholder": _l("예: 모, 부, 조모")})
    parent_phone = StringField(_l("보호자 연락처"), validators=[Optional(), PHONE], render_kw={"inputmode": "tel"})
    migrant_background = BooleanField(_l("이주배경 학생"))
    home_language = StringField(_l("가정에서 쓰는 언어"), validators=[Optional(), Length(max=40, message=_l("40자 이내로 입력해 주세요."))],
                                render_kw={"placeholder": _l("예: 베트남어")})
    special_education = BooleanField(_l("특수교육 대상 학생"))

    FIELDS = ("name", "birth_date", "grade", "class_no", "number", "neis_number", "phone", "address",
              "parent_name", "parent_relation", "parent_phone", "migrant_background", "home_language",
              "special_education")

    def student_fields(self) -> dict:
        """The values for create_student / update_student."""
        fields = {key: getattr(self, key).data for key in self.FIELDS}
        if not fields["migrant_background"]:
            fields["home_language"] = None
        return fields


class NewStudentForm(StudentForm):
    #: shown with the duplicate warning; ticking it saves with allow_duplicate=True
    confirm_duplicate = BooleanField(_l("같은 이름의 다른 학생입니다"))


class StudentSearchForm(BaseForm):
    """The search box of the student list: posted (never a query string); CSRFProtect checks the token."""

    class Meta:
        csrf = False

    q = StringField(_l("이름 또는 학생 개인번호"), validators=[Optional(), Length(max=50, message=_l("50자 이내로 입력해 주세요."))])


class ImportUploadForm(CsvUploadForm):
    file = csv_file_field(_l("학급 명단 CSV 파일"))
