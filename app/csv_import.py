"""The two-step CSV import every feature shares: upload → preview (every row checked, errors
per row) → confirm, which parses the same bytes again and saves all rows or none."""
from __future__ import annotations

import base64
import binascii
import csv
import io
from typing import Callable, Iterator

from flask import abort, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from . import cpu_share
from .form_fields import BaseForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from .domain import DomainError, NotPermitted, attach_to_form
from .extensions import db

#: no class list or directory comes near this; anything bigger is refused before parsing
MAX_IMPORT_BYTES = 1_000_000


def csv_rows(text: str) -> Iterator[list[str]]:
    """The records of a CSV text; a record the csv module refuses (a field over its 128 KiB
    limit, a broken quote) becomes a DomainError on the file naming its row, not a 500."""
    reader = csv.reader(io.StringIO(text, newline=""))  # as the csv docs ask: a lone CR ends a line
    row = 0  # rows as the preview numbers them: the header is row 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field limit" in str(error):
                limit = csv.field_size_limit() // 1024
                raise DomainError(_("한 칸의 내용이 너무 깁니다 (%(row)d행). 한 칸은 %(limit)dKB를 넘을 수 없습니다. "
                                    "파일을 확인해 주세요.", row=row, limit=limit), "file") from None
            raise DomainError(_("CSV 형식을 읽을 수 없습니다 (%(row)d행). 엑셀에서 CSV로 다시 저장해 주세요.", row=row),
                              "file") from None
        yield cells
        cpu_share.give_way()  # a 2,000-row file is parsed while pages of this process wait


def csv_file_field(label: str) -> FileField:
    """The file field of an upload form, with the checks every CSV upload shares."""
    return FileField(label, validators=[FileRequired(_l("CSV 파일을 선택해 주세요.")),
                                        FileAllowed(["csv"], _l("확장자가 .csv인 파일만 올릴 수 있습니다."))],
                     render_kw={"accept": ".csv,text/csv"})


class CsvUploadForm(BaseForm):
    """Base of the upload forms: subclasses set ``file = csv_file_field("…")``."""

    def validate_file(self, field):
        """Refuse a file that is too large or empty (without reading all of it)."""
        data = field.data.read(MAX_IMPORT_BYTES + 1)
        field.data.seek(0)
        if len(data) > MAX_IMPORT_BYTES:
            field.errors.append(_("파일이 너무 큽니다. 1MB 이하의 CSV 파일을 올려 주세요."))
        elif not data.strip():
            field.errors.append(_("빈 파일입니다."))


class ImportConfirmForm(BaseForm):
    """The preview's confirm button: carries the uploaded bytes, which are parsed again."""

    payload = HiddenField(_l("업로드한 파일"), validators=[DataRequired(_l("파일을 다시 올려 주세요."))])
    filename = HiddenField()

    def raw(self) -> bytes | None:
        """The uploaded bytes, or None when the payload is not the base64 this page wrote."""
        try:
            raw = base64.b64decode(self.payload.data or "", validate=True)
        except (binascii.Error, ValueError):
            return None
        return raw if 0 < len(raw) <= MAX_IMPORT_BYTES else None

    @staticmethod
    def encode(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")


def two_step_import(template: str, upload_form: type[CsvUploadForm], parse: Callable[[bytes], object],
                    save: Callable[[bytes], int], on_saved: Callable[[int], object], **context):
    """Run one request of the import screen; ``parse`` returns a preview with ``ok`` and
    ``errors``, ``save`` raises DomainError and saves nothing when any row is invalid."""
    if "payload" in request.form:
        confirm = ImportConfirmForm()
        raw = confirm.raw() if confirm.validate_on_submit() else None
        if raw is None:
            upload = upload_form(formdata=None)
            upload.form_errors.append(_("업로드한 파일을 확인할 수 없습니다. 파일을 다시 올려 주세요."))
            return render_template(template, form=upload, **context), 400
        try:
            count = save(raw)
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            return _preview(template, upload_form(formdata=None), parse, raw, confirm.filename.data, error, context)
        db.session.commit()
        return on_saved(count)
    form = upload_form()
    if form.validate_on_submit():
        return _preview(template, form, parse, form.file.data.read(), form.file.data.filename or "", None, context)
    return render_template(template, form=form, **context), (400 if form.errors else 200)


def _preview(template, form, parse, raw: bytes, filename: str, refused: DomainError | None, context: dict):
    """Parse the file again and show its rows and errors; only a clean file can be confirmed."""
    try:
        preview = parse(raw)
    except DomainError as error:
        attach_to_form(form, error)
        return render_template(template, form=form, **context), 400
    confirm = ImportConfirmForm(formdata=None, payload=ImportConfirmForm.encode(raw), filename=filename)
    if refused is not None and not preview.errors:
        confirm.form_errors.append(refused.message)
    ok = preview.ok and refused is None
    return render_template(template, form=form, preview=preview, confirm=confirm, ok=ok, filename=filename,
                           **context), (200 if ok else 400)
