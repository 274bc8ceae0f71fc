"""A NUL character is never typed by a person and PostgreSQL refuses it in text (which answered
500): a request carrying one in its path, query or form is refused at the door with a Korean
page, before any view or query sees it.  Other invisible controls are stripped by BaseForm."""
from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from .errors import render_error

NUL_MESSAGE = _l("입력에 쓸 수 없는 문자(NUL)가 들어 있습니다. 내용을 다시 입력해 주세요.")


def _carries_nul() -> bool:
    if "\x00" in request.path:
        return True
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                return True
    return any("\x00" in (upload.filename or "") for upload in request.files.values())


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul():
        if _carries_nul():
            return render_error(400, str(NUL_MESSAGE))
        return None
