"""Student forms: shape checks only (with Korean messages); services enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from ..csv_import import CsvUploadForm, csv_file_field
from ..words import josa

PHONE = Regexp(r"^[0-9+][0-9\- ]{6,18}$", message="전화번호는 숫자와 '-'로 입력해 주세요. (예: 010-1234-5678)")
DATE_HINT = "날짜를 2014-03-05 형식으로 입력해 주세요."


def _required(label: str):
    """InputRequired with "학년을 입력해 주세요." (the particle chosen from the word)."""
    return InputRequired(josa(label, "을/를") + " 입력해 주세요.")


class StudentForm(FlaskForm):
    """Everything a school records about a student; the same form registers and edits."""

    name = StringField("이름", validators=[DataRequired("이름을 입력해 주세요."), Length(max=50, message="이름은 50자 이내로 입력해 주세요.")],
                       render_kw={"autocomplete": "off"})
    birth_date = DateField("생년월일", validators=[InputRequired("생년월일을 입력해 주세요.")])
    grade = IntegerField("학년", validators=[_required("학년")], render_kw={"min": 1, "max": 12, "inputmode": "numeric"})
    class_no = IntegerField("반", validators=[_required("반")], render_kw={"min": 1, "max": 30, "inputmode": "numeric"})
    number = IntegerField("번호", validators=[_required("번호")], render_kw={"min": 1, "max": 99, "inputmode": "numeric"})
    neis_number = StringField("학생 개인번호(NEIS)", validators=[Optional(), Length(max=30, message="30자 이내로 입력해 주세요.")])
    phone = StringField("학생 연락처", validators=[Optional(), PHONE], render_kw={"inputmode": "tel"})
    address = StringField("주소", validators=[Optional(), Length(max=200, message="200자 이내로 입력해 주세요.")])
    parent_name = StringField("보호자 이름", validators=[Optional(), Length(max=50, message="50자 이내로 입력해 주세요.")])
    parent_relation = StringField("학생과의 관계", validators=[Optional(), Length(max=20, message="20자 이내로 입력해 주세요.")],
                                  render_kw={"placeholder": "예: 모, 부, 조모"})
    parent_phone = StringField("보호자 연락처", validators=[Optional(), PHONE], render_kw={"inputmode": "tel"})
    migrant_background = BooleanField("이주배경 학생")
    home_language = StringField("가정에서 쓰는 언어", validators=[Optional(), Length(max=40, message="40자 이내로 입력해 주세요.")],
                                render_kw={"placeholder": "예: 베트남어"})
    special_education = BooleanField("특수교육 대상 학생")

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
    confirm_duplicate = BooleanField("같은 이름의 다른 학생입니다")


class StudentSearchForm(FlaskForm):
    """The search box of the student list: posted (never a query string); CSRFProtect checks the token."""

    class Meta:
        csrf = False

    q = StringField("이름 또는 학생 개인번호", validators=[Optional(), Length(max=50, message="50자 이내로 입력해 주세요.")])


class ImportUploadForm(CsvUploadForm):
    file = csv_file_field("학급 명단 CSV 파일")
