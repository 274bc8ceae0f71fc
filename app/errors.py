"""Error pages (in the reader's language) that leak nothing; 403s are audited as permission denials."""
from flask import current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (_l("잘못된 요청입니다"), _l("요청을 처리할 수 없습니다. 입력한 내용을 확인한 뒤 다시 시도해 주세요.")),
    403: (_l("접근 권한이 없습니다"), _l("이 화면을 볼 권한이 없습니다. 필요하면 소속 기관의 담당자에게 문의해 주세요.")),
    404: (_l("페이지를 찾을 수 없습니다"), _l("주소가 바뀌었거나 볼 수 없는 항목입니다.")),
    405: (_l("허용되지 않은 요청입니다"), _l("이 주소에서는 그 방식의 요청을 처리하지 않습니다.")),
    429: (_l("요청이 너무 많습니다"), _l("잠시 후 다시 시도해 주세요.")),
    500: (_l("일시적인 오류가 발생했습니다"), _l("문제가 기록되었습니다. 잠시 후 다시 시도해 주세요.")),
    503: (_l("잠시 후 다시 시도해 주세요"), _l("지금 요청이 몰려 처리하지 못했습니다. 입력한 내용은 저장되지 않았습니다. "
                                      "잠시 뒤 다시 시도해 주세요.")),
}
CSRF_MESSAGE = _l("보안 토큰이 만료되었거나 올바르지 않습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.")
#: headers of an HTTP error that the error page keeps (the rest would describe werkzeug's own body)
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
#: served when even the error page cannot be rendered (e.g. the database is down)
FALLBACK_500 = ('<!doctype html><html lang="ko"><meta charset="utf-8"><title>오류 | 이음</title>'
                "<h1>일시적인 오류가 발생했습니다</h1><p>잠시 후 다시 시도해 주세요.</p></html>")
FALLBACK_503 = FALLBACK_500.replace("일시적인 오류가 발생했습니다", "잠시 후 다시 시도해 주세요")


def fallback_page(code: int) -> str:
    """The bare page of ``code`` (500 or 503) in the reader's language; Korean if even that fails."""
    try:
        from .i18n import current_language
        return ('<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{error} | {app}</title>'
                "<h1>{title}</h1><p>{text}</p></html>").format(
            lang=escape(current_language()), error=escape(gettext("오류")), app=escape(gettext("이음")),
            title=escape(MESSAGES[code][0]), text=escape(gettext("잠시 후 다시 시도해 주세요.")))
    except Exception:  # noqa: BLE001  the last resort must not fail
        return FALLBACK_503 if code == 503 else FALLBACK_500


def render_error(code: int, message: str | None = None):
    """The error page for ``code`` (known codes have their own text; others the 400 or 500 text)."""
    title, text = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return render_template("errors/error.html", code=code, title=title, text=message or text,
                           request_id=g.get("request_id")), code


#: PostgreSQL states that mean "try again": serialization failure, deadlock, lock not available
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_lock_error(exc: BaseException) -> bool:
    """A database that stayed busy past its timeout (SQLite "database is locked") or a
    PostgreSQL conflict the client may simply retry."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


#: the database cannot be written or reached at all: an operator must act, a retry alone may not help
STORAGE_MESSAGE = _l("지금은 데이터베이스에 기록할 수 없습니다(읽기 전용이거나 연결할 수 없음). 입력한 내용은 저장되지 "
                     "않았습니다. 잠시 뒤 다시 시도하고, 계속되면 관리자에게 알려 주세요.")
#: SQLite "readonly database" / "unable to open"; PostgreSQL read-only transaction, connection failures
_STORAGE_TEXTS = ("readonly database", "read-only", "unable to open database", "disk i/o error", "disk is full",
                  "connection refused", "could not connect", "server closed the connection", "terminating connection")


def is_storage_error(exc: BaseException) -> bool:
    """The database refused to be written or could not be reached (not a busy lock)."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or ""
    return state == "25006" or state.startswith("08") or any(t in str(orig).lower() for t in _STORAGE_TEXTS)


def unavailable_response(message=None):
    """503 with Retry-After: nothing of the request was kept, the client may try again.
    Rendered in a read phase, so the error page itself never waits for the write lock."""
    from .extensions import db
    from .transactions import abandon_request
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  a lost connection cannot even roll back; the request is over anyway
        current_app.logger.warning("rollback failed after a database error")
    abandon_request()
    try:
        response = make_response(render_error(503, str(message) if message else None))
    except Exception:  # noqa: BLE001  the database may be unreadable too
        current_app.logger.exception("could not render the 503 page")
        response = make_response(fallback_page(503), 503, {"Content-Type": "text/html; charset=utf-8"})
    response.headers["Retry-After"] = str(current_app.config.get("LOCKED_RETRY_AFTER", 2))
    return response


def _audit_denial() -> None:
    from .audit.services import record
    from .extensions import db
    db.session.rollback()  # never keep half of what the refused request did
    try:
        record("permission_denied", outcome="denied", object_type="endpoint",
               object_id=(request.endpoint or request.path)[:64], details={"method": request.method})
        db.session.commit()
    except SQLAlchemyError:  # the refusal stands even if it could not be written down
        db.session.rollback()
        current_app.logger.exception("could not audit a permission denial")


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        """A missing or stale token: the login and logout forms just start again, others get a 400."""
        if not current_user.is_authenticated and request.endpoint in ("auth.login", "auth.logout"):
            # the session (and the token in it) expired while the page stood open
            flash(gettext("화면을 오래 열어 두어 보안 토큰이 만료되었습니다. 다시 시도해 주세요."), "info")
            return redirect(url_for("auth.login"))
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(403)
    def forbidden(_exc):
        """Refused: record the denial in the audit trail, then show the page."""
        _audit_denial()
        return render_error(403)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        """Every other HTTP error: our page, the same status code."""
        response = make_response(render_error(exc.code or 500))
        for name, value in exc.get_headers():
            if name in KEPT_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def database_busy(exc):
        """The lock stayed taken past the busy timeout: 503 and Retry-After, never a 500."""
        if is_lock_error(exc):
            app.logger.warning("database busy on %s %s: answered 503", request.method, request.endpoint)
            return unavailable_response()
        if is_storage_error(exc):
            app.logger.error("database unavailable on %s %s: %s", request.method, request.endpoint,
                             type(getattr(exc, "orig", exc)).__name__)
            return unavailable_response(STORAGE_MESSAGE)
        raise exc

    @app.errorhandler(500)
    def server_error(_exc):
        """Flask has logged the traceback already; show nothing of it."""
        from .extensions import db
        try:
            db.session.rollback()
            return render_error(500)
        except Exception:  # noqa: BLE001  the error page must not fail in turn
            app.logger.exception("could not render the error page")
            return fallback_page(500), 500, {"Content-Type": "text/html; charset=utf-8"}
