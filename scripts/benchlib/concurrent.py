"""The concurrent run: simulated users across roles load ordinary pages for S seconds while one
auditor export and one class-list import (upload, preview, confirm) run alongside."""
from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections import defaultdict

from .client import Result, Session
from .login import csrf_token, hidden_fields
from .measure import Requester, ok_result, ok_status, percentile
from .pages import CONCURRENT_TARGET_MS


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_page: dict[str, list[Result]] = defaultdict(list)
        self.failures: dict[str, list[str]] = defaultdict(list)
        #: (start, end) of each long request, to tell the pages it slowed from the others
        self.busy: list[tuple[float, float]] = []

    def add(self, key: str, result: Result) -> None:
        with self.lock:
            self.by_page[key].append(result)

    def fail(self, key: str, error: Exception) -> None:
        with self.lock:
            self.failures[key].append(f"{type(error).__name__}: {error}")


def _user(recorder: Recorder, session: Session, pages: list[tuple[str, str]], deadline: float,
          think_ms: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        key, path = rng.choice(pages)
        try:
            recorder.add(key, session.get(path))
        except (OSError, http.client.HTTPException) as error:  # refused or reset: an error like a 5xx
            recorder.fail(key, error)
        if think_ms:
            time.sleep(think_ms * rng.uniform(0.5, 1.5) / 1000)


def _timed(name: str, recorder: Recorder, out: dict, run) -> None:
    started = time.perf_counter()
    try:
        out[name] = run()
    except Exception as error:  # reported, never raised: the other users keep going
        recorder.fail(name, error)
        out[name] = {"error": f"{type(error).__name__}: {error}"}
    ended = time.perf_counter()
    out[name]["seconds"] = round(ended - started, 3)
    with recorder.lock:
        recorder.busy.append((started, ended))


def _overlaps(result: Result, busy: list[tuple[float, float]]) -> bool:
    """Did the request run while a long request (export, import) was running?"""
    end = result.started + result.total_ms / 1000
    return any(start < end and result.started < stop for start, stop in busy)


def audit_export(session: Session, path: str, day: str, fmt: str) -> dict:
    send = Requester(session, path, "POST", {"start": day, "end": day, "fmt": fmt,
                                             "reason": "성능 측정(scripts/bench) 동시 실행"})
    result = send()
    return {"status": result.status, "ttfb_ms": round(result.ttfb_ms, 1), "total_ms": round(result.total_ms, 1),
            "bytes": len(result.body), "format": fmt}


def class_list_import(session: Session, path: str, csv_bytes: bytes, login: str = "") -> dict:
    """Upload (preview of every row), then confirm (save all): the two requests a lead makes."""
    form = session.get(path)
    preview = session.post(path, {"csrf_token": csrf_token(form.text())},
                           files={"file": ("class-list.csv", csv_bytes, "text/csv")})
    out = {"login": login, "preview_status": preview.status, "preview_ms": round(preview.total_ms, 1)}
    if preview.status != 200:
        return out
    confirm_fields = hidden_fields(preview.text(), _confirm_form_index(preview.text()))
    saved = session.post(path, confirm_fields)
    out.update(save_status=saved.status, save_ms=round(saved.total_ms, 1))
    return out


def _confirm_form_index(page: str) -> int:
    forms = re.findall(r"<form\b.*?</form>", page, re.S | re.I)
    for index, form in enumerate(forms):
        if 'name="payload"' in form:
            return index
    return 0


def run_concurrent(sessions: dict[str, Session], paths: dict[str, list[tuple[str, str]]], *, users: int,
                   seconds: float, think_ms: float, background: dict) -> dict:
    """``paths``: role -> [(page key, path)]; ``background``: name -> callable run once in a thread."""
    recorder, side = Recorder(), {}
    roles = [role for role in paths if paths[role]]
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_timed, args=(name, recorder, side, run), daemon=True)
               for name, run in background.items()]
    for i in range(users):
        role = roles[i % len(roles)]
        threads.append(threading.Thread(target=_user, args=(recorder, sessions[role].copy(), paths[role], deadline,
                                                            think_ms, i + 1), daemon=True))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return summarize_concurrent(recorder, side, elapsed, users, seconds)


def summarize_concurrent(recorder: Recorder, side: dict, elapsed: float, users: int, seconds: float) -> dict:
    pages, errors, total = {}, 0, 0
    keys = set(recorder.by_page) | (set(recorder.failures) - set(side))
    for key in sorted(keys):
        results = recorder.by_page.get(key, [])
        bad = [r.status for r in results if not ok_result(r)]
        failures = recorder.failures.get(key, [])
        errors += len(bad) + len(failures)
        total += len(results)
        p95 = percentile([r.total_ms for r in results], 95)
        beside = [r.total_ms for r in results if _overlaps(r, recorder.busy)]
        alone = [r.total_ms for r in results if not _overlaps(r, recorder.busy)]
        pages[key] = {"requests": len(results), "p50_ms": percentile([r.total_ms for r in results], 50),
                      "p95_ms": p95, "server_p95_ms": percentile([r.server_ms for r in results if r.server_ms], 95),
                      "beside_long_requests": len(beside), "p95_beside_ms": percentile(beside, 95),
                      "p95_alone_ms": percentile(alone, 95),
                      "errors": len(bad) + len(failures), "error_statuses": sorted(set(bad)),
                      "failures": failures[:5], "ok": p95 is not None and p95 <= CONCURRENT_TARGET_MS and not bad}
    background_failures = {k: v for k, v in recorder.failures.items() if k in side}
    for name, info in side.items():
        statuses = [v for k, v in info.items() if k.endswith("status")]
        if "error" in info or any(not ok_status(s) for s in statuses):
            errors += 1
    return {"users": users, "seconds": seconds, "elapsed_s": round(elapsed, 2), "requests": total,
            "throughput_rps": round(total / elapsed, 1) if elapsed else None, "errors": errors, "pages": pages,
            "background": side, "background_failures": background_failures}
