"""Security headers and request ids for every response."""
import uuid

from flask import g, request

#: no inline script or style anywhere: templates link files from /static only
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


#: the longest client request id kept (audit details), after control characters are removed
CLIENT_REQUEST_ID_MAX = 64


def client_request_id(value: str | None) -> str | None:
    """A client's X-Request-ID without control or format characters, at most 64 characters."""
    cleaned = "".join(ch for ch in value or "" if ch.isprintable())[:CLIENT_REQUEST_ID_MAX].strip()
    return cleaned or None


def init_app(app) -> None:
    @app.before_request
    def assign_request_id():
        # The id in the audit trail and on error pages is always ours: a client could otherwise
        # pick ids that collide with real ones or smuggle text into the trail.  A proxy's or
        # client's id is kept apart, cleaned, for correlating with their logs.
        g.request_id = uuid.uuid4().hex
        g.client_request_id = client_request_id(request.headers.get("X-Request-ID"))

    @app.after_request
    def set_security_headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if not request.path.startswith("/static/"):
            # pages may carry personal data: never cache them anywhere
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
