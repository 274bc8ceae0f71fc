"""Sequential measurement of one page: warm-ups, then N requests; percentiles and summaries."""
from __future__ import annotations

import http.client
import math
import time
from collections import Counter

from .client import Result, Session
from .login import csrf_token


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return value / base


def ok_status(status: int) -> bool:
    return 200 <= status < 400


def ok_result(result: Result) -> bool:
    """2xx, or a redirect that is not to the sign-in page (a lapsed session measures nothing)."""
    return ok_status(result.status) and not (300 <= result.status < 400 and "/login" in result.location)


def summarize(results: list[Result]) -> dict:
    """p50/p95 of client, first-byte and server time, query counts and status codes."""
    client = [r.total_ms for r in results]
    ttfb = [r.ttfb_ms for r in results]
    server = [r.server_ms for r in results if r.server_ms is not None]
    queries = [r.queries for r in results if r.queries is not None]
    statuses = Counter(str(r.status) if ok_result(r) or not ok_status(r.status) else f"{r.status}->login"
                       for r in results)
    return {
        "requests": len(results),
        "p50_ms": percentile(client, 50), "p95_ms": percentile(client, 95), "max_ms": max(client, default=None),
        "ttfb_p50_ms": percentile(ttfb, 50), "ttfb_p95_ms": percentile(ttfb, 95),
        "server_p50_ms": percentile(server, 50), "server_p95_ms": percentile(server, 95),
        "queries_min": min(queries, default=None), "queries_max": max(queries, default=None),
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(1 for r in results if not ok_result(r)),
        "bytes": results[-1].body.__len__() if results else 0,
    }


class Requester:
    """Sends one page's request for a session: a GET, or a POST with the form's CSRF token."""

    def __init__(self, session: Session, path: str, method: str = "GET", form: dict | None = None,
                 form_path: str | None = None):
        self.session, self.path, self.method, self.form = session, path, method, dict(form or {})
        if method == "POST":
            page = session.get(form_path or path)
            self.form["csrf_token"] = csrf_token(page.text())

    def __call__(self) -> Result:
        if self.method == "POST":
            return self.session.post(self.path, self.form)
        return self.session.get(self.path)


def guarded(send) -> Result:
    """One request; a dropped connection (a worker killed at its timeout) is a result with status 0."""
    started = time.perf_counter()
    try:
        return send()
    except (OSError, http.client.HTTPException) as error:
        elapsed = (time.perf_counter() - started) * 1000
        return Result(0, {"x-bench-error": f"{type(error).__name__}: {error}"}, b"", elapsed, elapsed)


def run_sequential(send, requests: int, warmups: int = 3) -> tuple[dict, list[Result]]:
    for _ in range(warmups):
        guarded(send)
    results = [guarded(send) for _ in range(requests)]
    return summarize(results), results
