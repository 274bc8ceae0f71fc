"""scripts/bench: arguments, the order of the runs, and the output."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path

from . import pages as pg
from .client import Session
from .concurrent import audit_export, class_list_import, run_concurrent
from .explain import explain_page, format_explain
from .login import load_logins, refresh_sessions, sign_in_all
from .measure import Requester, ratio, run_sequential
from .report import annotate, concurrent_table, table, write_json
from .serve import ROOT, served, server_env

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description="Benchmark the key pages at scale (issue 13).")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-name", default="ieum_scale", help="PostgreSQL database name (with --db postgresql "
                        "when DATABASE_URL is not a postgresql URL)")
    parser.add_argument("--instance", help="instance folder (default: IEUM_INSTANCE_PATH, else the repo's instance/)")
    parser.add_argument("--requests", type=int, default=50, help="sequential requests per page after 3 warm-ups")
    parser.add_argument("--heavy-requests", type=int, help="requests for batch matching, the access review and "
                        "exports (default: --requests)")
    parser.add_argument("--concurrent-seconds", type=float, default=60, help="0 skips the concurrent run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think-ms", type=float, default=1000,
                        help="mean pause of a simulated user between pages (0: as fast as possible)")
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--export-format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (as on this 2-core machine)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread, as in production)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--explain", action="store_true", help="print the query plan of every page's statements")
    parser.add_argument("--no-rates", action="store_true", help="skip the rates (audit verify, appends, export, "
                                                                   "re-encryption)")
    parser.add_argument("--pages", help="comma-separated page keys (default: all): " + ",".join(pg.BY_KEY))
    return parser.parse_args(argv)


def database_url(args) -> str | None:
    current = os.environ.get("DATABASE_URL", "")
    if args.db == "postgresql":
        return current if current.startswith("postgres") else PG_DEFAULT.format(name=args.pg_name)
    return current if current.startswith("sqlite") else None


def make_app(instance: str, url: str | None):
    os.environ["IEUM_INSTANCE_PATH"] = instance
    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    from app import create_app
    return create_app()


def data_sizes(app) -> dict:
    from sqlalchemy import text
    from app.extensions import db
    sizes = {}
    with app.app_context():
        for table_name in ("organisation", "student", "support_case", "referral", "audit_event"):
            try:
                sizes[table_name] = db.session.execute(text(f"SELECT count(*) FROM {table_name}")).scalar()
            except Exception:  # noqa: BLE001  (a missing table is reported, not fatal)
                sizes[table_name] = None
        sizes["dialect"] = db.engine.dialect.name
    return sizes


def measure_pages(args, sessions: dict, pages: list, urls: dict, hello_p50: float | None) -> list[dict]:
    rows = []
    for page in pages:
        session = sessions[page.role]
        send = Requester(session, urls[page.key], page.method, pg.resolve(page.form, args.targets))
        heavy = page.kind in ("batch", "review", "export")
        count = (args.heavy_requests or args.requests) if heavy else args.requests
        summary, _ = run_sequential(send, count)
        row = annotate(page, summary, hello_p50)
        row["url"] = urls[page.key]
        rows.append(row)
        print(f"  {page.key:<20} p50 {row['p50_ms']:8.1f} ms  server p95 {row['server_p95_ms'] or 0:8.1f} ms  "
              f"queries {row['queries_min']}-{row['queries_max']}  {row['statuses']}", flush=True)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    instance = args.instance or os.environ.get("IEUM_INSTANCE_PATH") or str(ROOT / "instance")
    url = database_url(args)
    logins = load_logins(Path(instance))
    args.targets = logins.get("targets", {})
    pages = pg.select_pages(args.pages)
    app = make_app(instance, url)
    skipped: dict[str, str] = {}
    urls = pg.build_urls(app, pages, args.targets, skipped)
    pages = [page for page in pages if page.key in urls]
    for key, why in skipped.items():
        print(f"skipped {key}: {why}")
    from flask import url_for
    with app.test_request_context():
        import_path = url_for("students.import_csv")
        export_path = url_for("audit.export")
    sizes = data_sizes(app)
    dialect = sizes.pop("dialect")
    print(f"database: {dialect} {url or 'sqlite (instance)'}; rows: {sizes}; scale {logins.get('scale')}")
    log = Path(tempfile.gettempdir()) / f"ieum-bench-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    env = server_env(instance, url)
    importer = pg.IMPORTER if pg.IMPORTER in logins["users"] else pg.LEAD
    if args.concurrent_seconds and importer == pg.LEAD:
        print("warning: scale-logins.json names no importer: the class-list import goes to the measured lead's "
              "school, which grows by --import-rows students a run (rebuild with `flask demo scale`)")
    roles = sorted({p.role for p in pages} | ({importer, pg.AUDITOR} if args.concurrent_seconds else set()))
    out = {"started": dt.datetime.now(dt.timezone.utc).isoformat(), "db": args.db, "instance": instance,
           "scale": logins.get("scale"), "rows": sizes, "workers": args.workers, "threads": args.threads, "requests": args.requests,
           "server_log": str(log), "skipped": skipped}
    with served("hello_wsgi:app", workers=args.workers, threads=args.threads, cwd=ROOT / "scripts", log=log) as hello_port, \
            served("wsgi:app", workers=args.workers, threads=args.threads, env=env, ready_path="/login", log=log) as port:
        hello = Session("127.0.0.1", hello_port)
        hello_summary, _ = run_sequential(lambda: hello.get("/"), args.requests)
        print(f"bare hello: p50 {hello_summary['p50_ms']:.2f} ms, p95 {hello_summary['p95_ms']:.2f} ms", flush=True)
        sessions = sign_in_all("127.0.0.1", port, logins, roles)
        print(f"signed in: {', '.join(roles)}", flush=True)
        rows = measure_pages(args, sessions, pages, urls, hello_summary["p50_ms"])
        app_hello = next((r["p50_ms"] for r in rows if r["kind"] == "hello"), None)
        for row in rows:
            row["ratio_to_app_hello"] = ratio(row["p50_ms"], app_hello)
        out.update(hello=hello_summary, pages=rows)
        if args.concurrent_seconds > 0:
            ordinary = {}
            for page in pages:
                if page.ordinary:
                    ordinary.setdefault(page.role, []).append((page.key, urls[page.key]))
            renewed = refresh_sessions(sessions, logins)
            if renewed:
                print(f"signed in again (session lapsed): {', '.join(renewed)}")
            csv_bytes = pg.class_list_csv(args.import_rows)
            background = {
                "audit_export": lambda: audit_export(sessions[pg.AUDITOR].copy(), export_path,
                                                     args.targets["audit_day"], args.export_format),
                "class_list_import": lambda: class_list_import(sessions[importer].copy(), import_path, csv_bytes,
                                                               logins["users"][importer]["login"]),
            }
            print(f"concurrent run: {args.users} users for {args.concurrent_seconds:.0f} s …", flush=True)
            out["concurrent"] = run_concurrent(sessions, ordinary, users=args.users, seconds=args.concurrent_seconds,
                                               think_ms=args.think_ms, background=background)
    print()
    print(table(rows, hello_summary))
    if "concurrent" in out:
        print()
        print(concurrent_table(out["concurrent"]))
    if args.explain:
        out["explain"] = {}
        for page in pages:
            info = explain_page(app, page, urls[page.key], sessions[page.role].cookies)
            out["explain"][page.key] = info
            print()
            print(format_explain(page.key, page.label, info, dialect))
    if not args.no_rates:
        from .rates import measure_rates, rates_table
        out["rates"] = measure_rates(app, args.targets.get("audit_day"))
        print()
        print(rates_table(out["rates"]))
    errors = sum(r["errors"] for r in rows) + out.get("concurrent", {}).get("errors", 0)
    out["errors"] = errors
    if args.json:
        write_json(args.json, out)
        print(f"\nJSON: {args.json}")
    print(f"server log: {log}")
    return 1 if errors else 0
