"""Korean error pages that leak nothing; 403s are audited as permission denials."""
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("잘못된 요청입니다", "요청을 처리할 수 없습니다. 입력한 내용을 확인한 뒤 다시 시도해 주세요."),
    403: ("접근 권한이 없습니다", "이 화면을 볼 권한이 없습니다. 필요하면 소속 기관의 담당자에게 문의해 주세요."),
    404: ("페이지를 찾을 수 없습니다", "주소가 바뀌었거나 볼 수 없는 항목입니다."),
    405: ("허용되지 않은 요청입니다", "이 주소에서는 그 방식의 요청을 처리하지 않습니다."),
    429: ("요청이 너무 많습니다", "잠시 후 다시 시도해 주세요."),
    500: ("일시적인 오류가 발생했습니다", "문제가 기록되었습니다. 잠시 후 다시 시도해 주세요."),
}


def render_error(code: int, message: str | None = None):
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=message or text), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render_error(400, "보안 토큰이 만료되었거나 올바르지 않습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.")

    @app.errorhandler(403)
    def forbidden(_exc):
        from .audit.services import record
        from .extensions import db
        db.session.rollback()  # never keep half of what the refused request did
        record("permission_denied", outcome="denied", object_type="endpoint",
               object_id=request.endpoint or request.path[:64], details={"method": request.method})
        db.session.commit()
        return render_error(403)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return render_error(exc.code if exc.code in MESSAGES else 400)

    @app.errorhandler(500)
    def server_error(_exc):
        from .extensions import db
        db.session.rollback()
        app.logger.exception("unhandled error in %s", request.endpoint)  # traceback, no form values
        return render_error(500)
