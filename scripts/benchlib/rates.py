"""Throughput rates the tests may not time (issue 18): measured here, in-process on the bench
database, and reported beside the pages.

- audit chain verification, events/s (the whole chain, as `flask audit verify` walks it; target
  500,000 events/s);
- audit appends, events/s (``record`` in one transaction, rolled back: nothing is kept);
- audit export, rows/s (one day as CSV into a temporary file; the export's own two audit events stay);
- field re-encryption, values/s (decrypt + encrypt with the key ring, what `flask keys rotate`
  does per value, without touching the database).
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path


def _rate(count: int, seconds: float) -> dict:
    return {"count": count, "seconds": round(seconds, 3), "per_second": round(count / seconds) if seconds else None}


def measure_rates(app, audit_day: str | None, appends: int = 2000, values: int = 20000) -> dict:
    from app.audit.chain import verify_chain
    from app.audit.export import write_export
    from app.audit.services import record
    from app.db import keyring
    from app.extensions import db

    rates: dict = {}
    with app.app_context():
        started = time.perf_counter()
        result = verify_chain()
        rates["audit_verify"] = {**_rate(result.count, time.perf_counter() - started), "ok": result.ok}

        started = time.perf_counter()
        for n in range(appends):
            record("bench_append", object_type="bench", object_id=str(n), actor=None)
        db.session.flush()
        rates["audit_append"] = _rate(appends, time.perf_counter() - started)
        db.session.rollback()

        if audit_day:
            day = dt.date.fromisoformat(audit_day)
            with tempfile.TemporaryDirectory(prefix="ieum-bench-export-") as folder:
                started = time.perf_counter()
                exported = write_export("csv", day, day, Path(folder) / "day.csv", "scripts/bench rate", actor=None)
                rates["audit_export"] = _rate(exported.rows, time.perf_counter() - started)
            db.session.commit()

        ring = keyring()
        sealed = [ring.encrypt(f"bench value {n}", "bench", "value", str(n)) for n in range(values)]
        started = time.perf_counter()
        for n, stored in enumerate(sealed):
            ring.encrypt(ring.decrypt(stored, "bench", "value", str(n)), "bench", "value", str(n))
        rates["reencrypt"] = _rate(values, time.perf_counter() - started)
    return rates


def rates_table(rates: dict) -> str:
    labels = {"audit_verify": "audit chain verify (events/s)", "audit_append": "audit appends (events/s)",
              "audit_export": "audit export, one day CSV (rows/s)", "reencrypt": "re-encryption (values/s)"}
    lines = ["rate                                   count    seconds      per second"]
    for key, label in labels.items():
        if key in rates:
            r = rates[key]
            lines.append(f"{label:<36} {r['count']:>8,} {r['seconds']:>10.3f} {r['per_second'] or 0:>15,}")
    return "\n".join(lines)
