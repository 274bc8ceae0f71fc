"""Per-request statistics for the benchmark: SQL statements and server time in response headers.

Off unless ``IEUM_REQUEST_STATS`` is set (``scripts/bench`` sets it through the environment):
the headers tell how much work a page took, never what it showed.
"""
from __future__ import annotations

import time

from flask import Flask, g, has_request_context
from sqlalchemy import event

QUERY_HEADER = "X-Ieum-Queries"
TIME_HEADER = "Server-Timing"


def _count(*_args) -> None:
    if has_request_context() and "ieum_stats" in g:
        g.ieum_stats[0] += 1


def init_app(app: Flask) -> None:
    if not app.config.get("IEUM_REQUEST_STATS"):
        return
    with app.app_context():
        from .extensions import db
        event.listen(db.engine, "before_cursor_execute", _count)

    @app.before_request
    def start_stats():
        g.ieum_stats = [0, time.perf_counter()]

    @app.after_request
    def stats_headers(response):
        stats = g.get("ieum_stats")
        if stats:
            response.headers[QUERY_HEADER] = str(stats[0])
            response.headers[TIME_HEADER] = f"app;dur={(time.perf_counter() - stats[1]) * 1000:.2f}"
        return response
