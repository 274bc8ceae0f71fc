"""A bare WSGI "hello" for scripts/bench: served by gunicorn with the app's settings, it is the
floor every page's time is compared with (no Flask, no database)."""


def app(environ, start_response):
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
