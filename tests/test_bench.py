"""scripts/bench (issue 13): its pure parts, its page list against the app's url_map, and one
end-to-end run on a tiny database (slow). No timing is asserted anywhere: speed lives in the bench."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import pages as pg  # noqa: E402
from benchlib.client import Result, multipart  # noqa: E402
from benchlib.login import csrf_token, hidden_fields  # noqa: E402
from benchlib.measure import percentile, ratio, summarize  # noqa: E402
from benchlib.report import annotate, table, verdict  # noqa: E402

#: the targets scale-logins.json carries (/tmp/b/scale-contract.md)
CONTRACT_TARGETS = {"case_long_chronology", "case_district", "referral_busiest", "student_subject", "actor_login",
                    "audit_day", "review_month"}
FAKE_TARGETS = {"case_long_chronology": "c-1", "case_district": "c-2", "referral_busiest": "r-1",
                "student_subject": "s-1", "actor_login": "someone", "audit_day": "2026-03-04",
                "review_month": "2026-03"}


def result(status=200, total=10.0, server="app;dur=4.50", queries="7") -> Result:
    headers = {"server-timing": server, "x-ieum-queries": queries} if server else {}
    return Result(status, headers, b"x", total / 2, total)


def test_percentile_interpolates_between_ranks():
    values = list(range(1, 101))
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 0) == 1 and percentile([3, 1, 2], 100) == 3


def test_ratio_to_hello():
    assert ratio(50.0, 0.5) == pytest.approx(100.0)
    assert ratio(None, 0.5) is None and ratio(5.0, 0) is None


def test_summary_reads_server_timing_queries_and_statuses():
    summary = summarize([result(total=10), result(total=20, queries="9"), result(status=500, server=None)])
    assert summary["requests"] == 3
    assert summary["server_p50_ms"] == pytest.approx(4.5)
    assert (summary["queries_min"], summary["queries_max"]) == (7, 9)
    assert summary["statuses"] == {"200": 2, "500": 1} and summary["errors"] == 1


def test_targets_are_the_issues():
    assert pg.TARGETS_MS == {"page": 50.0, "batch": 3000.0, "review": 1000.0, "export": 1000.0, "dashboard": 200.0}
    assert pg.CONCURRENT_TARGET_MS == 150.0
    kinds = {page.key: page.kind for page in pg.PAGES}
    assert kinds["batch_matching"] == "batch" and kinds["access_review"] == "review"
    assert {k for k, v in kinds.items() if v == "export"} == {"directory_csv", "audit_csv", "audit_xlsx"}
    # the statistics pages of issue 14, each audience's (≤ 200 ms)
    assert {k for k, v in kinds.items() if v == "dashboard"} >= {"report_school", "report_district", "report_city"}


def test_verdict_uses_server_p95_and_first_byte_for_exports():
    page, export = pg.BY_KEY["agency_inbox"], pg.BY_KEY["audit_csv"]
    assert verdict(page, {"server_p95_ms": 49.0, "errors": 0}) == "OK"
    assert verdict(page, {"server_p95_ms": 51.0, "errors": 0}) == "MISS"
    assert verdict(page, {"server_p95_ms": 1.0, "errors": 2}) == "ERR"
    assert verdict(export, {"ttfb_p95_ms": 900.0, "server_p95_ms": 5000.0, "errors": 0}) == "OK"
    assert verdict(pg.BY_KEY["app_hello"], {"server_p95_ms": 1.0, "errors": 0}) == "-"


def test_table_lists_every_page_with_its_verdict():
    hello = summarize([result(total=0.5, server=None)])
    rows = [annotate(page, summarize([result(status=302 if page.kind == "hello" else 200)]), hello["p50_ms"])
            for page in pg.PAGES]
    text = table(rows, hello)
    for page in pg.PAGES:
        assert page.label in text
    assert "bare hello" in text and "MISS" not in text


def test_csrf_token_and_hidden_fields_are_parsed_from_forms():
    page = ('<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" value="IjAb.c&amp;d">'
            '<input name="login"></form><form method="post"><input type="hidden" name="payload" value="xyz">'
            '<input type="hidden" name="csrf_token" value="t2"></form>')
    assert csrf_token(page) == "IjAb.c&d"
    assert hidden_fields(page, 1) == {"payload": "xyz", "csrf_token": "t2"}
    with pytest.raises(ValueError):
        csrf_token("<form></form>")


def test_csrf_token_of_the_real_login_form(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        html = app.test_client().get("/login").get_data(as_text=True)
    assert len(csrf_token(html)) > 20


def test_multipart_body_carries_fields_and_file():
    body, ctype = multipart({"csrf_token": "t"}, {"file": ("a.csv", b"x,y\n", "text/csv")})
    assert ctype.startswith("multipart/form-data; boundary=")
    assert b'name="csrf_token"\r\n\r\nt\r\n' in body and b'filename="a.csv"' in body and b"x,y\n" in body


def test_every_page_is_a_route_of_the_app(app):
    """The page list names real endpoints with the method it uses; URLs come from url_for."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for page in pg.PAGES:
        assert page.endpoint in rules, page.key
        assert page.method in rules[page.endpoint].methods, page.key
        assert page.role in pg.ROLES
    urls = pg.build_urls(app, pg.PAGES, FAKE_TARGETS)
    assert set(urls) == set(pg.BY_KEY)
    assert urls["district_cases_p50"].endswith("page=50") and urls["case_long"].endswith("/c-1")
    assert "action=case_viewed" in urls["audit_action"] and "scope=all" in urls["directory_csv"]
    used = {v[1:] for page in pg.PAGES for v in [*page.values.values(), *page.form.values()]
            if isinstance(v, str) and v.startswith("@")}
    assert used <= CONTRACT_TARGETS
    for endpoint in ("students.import_csv", "audit.export"):  # the concurrent run's import and export
        assert "POST" in rules[endpoint].methods


def test_every_role_has_a_key_page():
    assert {page.role for page in pg.PAGES} == set(pg.ROLES)


def test_class_list_is_valid_for_the_importer(app, db, build):
    from app.students.importer import parse_class_list
    school = build.school()
    db.session.commit()
    preview = parse_class_list(pg.class_list_csv(60, seed=3), school)
    assert preview.ok, preview.errors[:3]
    assert len(preview.rows) == 60


# --- end to end ---------------------------------------------------------------------------

def _flask(env, *args, **kwargs):
    return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, **kwargs)


def _has_scale_command(env) -> bool:
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "demo", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return " scale " in done.stdout or "\n  scale" in done.stdout


def _students_of(instance, logins) -> dict:
    """Students registered at the school of each of the logins' school leads (raw SQL: no app here)."""
    import sqlite3
    with sqlite3.connect(instance / "ieum.db") as connection:
        return {name: connection.execute(
            "SELECT count(*) FROM student WHERE school_id = (SELECT organisation_id FROM user_account WHERE login = ?)",
            (logins[name]["login"],)).fetchone()[0] for name in ("importer", "school_lead")}


@pytest.mark.slow
def test_bench_runs_end_to_end_on_a_tiny_scale_database(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    (instance / "config.py").write_text("SECRET_KEY = 'bench-test-" + os.urandom(8).hex() + "'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IEUM_") and k != "DATABASE_URL"}
    env.update(FLASK_APP="app", IEUM_INSTANCE_PATH=str(instance))
    _flask(env, "keys", "init")
    if not _has_scale_command(env):
        pytest.skip("`flask demo scale` is not there yet")
    _flask(env, "db", "upgrade")
    _flask(env, "demo", "scale", "--scale", "0.002", timeout=900)
    assert (instance / "scale-logins.json").exists()
    logins = json.loads((instance / "scale-logins.json").read_text())["users"]
    before = _students_of(instance, logins)
    out = tmp_path / "bench.json"
    done = subprocess.run([str(ROOT / "scripts" / "bench"), "--requests", "3", "--concurrent-seconds", "3",
                           "--users", "4", "--import-rows", "200", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(out.read_text())
    assert {row["key"] for row in data["pages"]} == set(pg.BY_KEY)
    assert all(row["errors"] == 0 and row["requests"] == 3 for row in data["pages"])
    assert all(row["queries_min"] is not None for row in data["pages"])
    assert data["concurrent"]["errors"] == 0 and data["concurrent"]["requests"] > 0
    imported = data["concurrent"]["background"]["class_list_import"]
    assert imported["save_status"] == 302 and imported["login"] == logins["importer"]["login"]
    # the import grows a school no page measures, never the measured lead's
    after = _students_of(instance, logins)
    assert after["importer"] == before["importer"] + 200 and after["school_lead"] == before["school_lead"]
    assert data["errors"] == 0
    assert "page" in done.stdout and "bare hello" in done.stdout
    # the rates the tests may not time: counted, and the chain verified
    rates = data["rates"]
    assert rates["audit_verify"]["ok"] and rates["audit_verify"]["count"] > 0
    assert rates["audit_append"]["count"] == 2000 and rates["reencrypt"]["count"] == 20000
    assert rates["audit_export"]["count"] >= 0 and "audit chain verify (events/s)" in done.stdout


def test_concurrent_summary_counts_failed_requests_and_5xx():
    from benchlib.concurrent import Recorder, summarize_concurrent
    recorder = Recorder()
    recorder.add("lead_home", result(total=20))
    recorder.add("lead_home", result(status=503, total=2000))
    recorder.fail("agency_inbox", ConnectionResetError("reset"))
    recorder.add("staff_home", Result(302, {"location": "/login?next=%2F"}, b"", 1.0, 1.0))
    side = {"class_list_import": {"preview_status": 200, "save_status": 500}, "audit_export": {"status": 200}}
    summary = summarize_concurrent(recorder, side, 3.0, 4, 3.0)
    assert summary["pages"]["lead_home"]["errors"] == 1 and summary["pages"]["lead_home"]["error_statuses"] == [503]
    assert summary["pages"]["agency_inbox"]["errors"] == 1 and not summary["pages"]["agency_inbox"]["ok"]
    assert summary["pages"]["staff_home"]["errors"] == 1  # a lapsed session measures nothing
    assert summary["errors"] == 4


def test_concurrent_summary_tells_pages_beside_a_long_request_from_the_others():
    from benchlib.concurrent import Recorder, summarize_concurrent
    recorder = Recorder()
    recorder.busy.append((10.0, 12.0))  # an export ran from 10 s to 12 s
    for started, total in ((1.0, 30), (9.99, 40), (11.0, 400), (12.5, 20)):  # the 2nd ends inside the export
        recorder.add("lead_home", Result(200, {}, b"x", total / 2, total, started))
    row = summarize_concurrent(recorder, {}, 3.0, 4, 3.0)["pages"]["lead_home"]
    assert row["beside_long_requests"] == 2
    assert row["p95_beside_ms"] > 300 and row["p95_alone_ms"] < 30
