"""The printed table (page, p50, p95, server p95, queries, ratio, target, OK/MISS) and the JSON."""
from __future__ import annotations

import json
from pathlib import Path

from .measure import ratio
from .pages import CONCURRENT_TARGET_MS, Page


def verdict(page: Page, summary: dict) -> str:
    """OK / MISS against the issue's target; ERR when any answer was not 2xx/3xx; "-" for no target."""
    if summary.get("errors"):
        return "ERR"
    target = page.target_ms
    if target is None:
        return "-"
    measured = summary.get("ttfb_p95_ms") if page.kind == "export" else summary.get("server_p95_ms")
    if measured is None:
        return "?"
    return "OK" if measured <= target else "MISS"


def annotate(page: Page, summary: dict, hello_p50: float | None) -> dict:
    summary = dict(summary)
    summary.update(key=page.key, label=page.label, role=page.role, kind=page.kind, target_ms=page.target_ms,
                   ratio_to_hello=ratio(summary.get("p50_ms"), hello_p50),
                   queries_constant=summary.get("queries_min") == summary.get("queries_max"))
    summary["verdict"] = verdict(page, summary)
    return summary


def _ms(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _queries(row: dict) -> str:
    low, high = row.get("queries_min"), row.get("queries_max")
    if low is None:
        return "-"
    return str(low) if low == high else f"{low}-{high}!"


def _target(row: dict) -> str:
    target = row.get("target_ms")
    if target is None:
        return "-"
    prefix = "ttfb " if row.get("kind") == "export" else ""
    return f"{prefix}≤{target:,.0f}"


def table(rows: list[dict], hello: dict | None) -> str:
    header = ("page", "p50", "p95", "srv p50", "srv p95", "queries", "×hello", "target", "status", "verdict")
    lines = [header]
    if hello:
        lines.append(("bare hello (gunicorn, no app)", _ms(hello["p50_ms"]), _ms(hello["p95_ms"]), "-", "-", "-",
                      "1.0", "-", _statuses(hello), "-"))
    for row in rows:
        extra = f" (ttfb p95 {_ms(row['ttfb_p95_ms'])})" if row["kind"] == "export" else ""
        lines.append((row["label"] + extra, _ms(row["p50_ms"]), _ms(row["p95_ms"]), _ms(row["server_p50_ms"]),
                      _ms(row["server_p95_ms"]), _queries(row),
                      f"{row['ratio_to_hello']:,.1f}" if row.get("ratio_to_hello") else "-", _target(row),
                      _statuses(row), row["verdict"]))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(line)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("times in ms; p50/p95: client (request to last byte); srv: Server-Timing; ×hello: p50 / bare hello p50;"
               " queries: X-Ieum-Queries min (min-max! when it varied)")
    return "\n".join(out)


def _statuses(row: dict) -> str:
    return ",".join(f"{k}×{v}" for k, v in row.get("statuses", {}).items())


def concurrent_table(result: dict) -> str:
    lines = [f"concurrent run: {result['users']} users, {result['elapsed_s']} s, {result['requests']} requests "
             f"({result['throughput_rps']} req/s), errors: {result['errors']}"]
    width = max([len(k) for k in result["pages"]] + [4])
    lines.append(f"{'page'.ljust(width)}  {'n':>5}  {'p50':>7}  {'p95':>7}  {'srv p95':>7}  {'beside':>6}  "
                 f"{'p95 b.':>7}  {'p95 a.':>7}  err  target")
    for key, row in result["pages"].items():
        mark = "OK" if row["ok"] else ("ERR" if row["errors"] else "MISS")
        lines.append(f"{key.ljust(width)}  {row['requests']:>5}  {_ms(row['p50_ms']):>7}  {_ms(row['p95_ms']):>7}  "
                     f"{_ms(row['server_p95_ms']):>7}  {row['beside_long_requests']:>6}  {_ms(row['p95_beside_ms']):>7}  "
                     f"{_ms(row['p95_alone_ms']):>7}  {row['errors']:>3}  ≤{CONCURRENT_TARGET_MS:.0f} {mark}"
                     + (f"  statuses {row['error_statuses']}" if row["error_statuses"] else "")
                     + (f"  {row['failures'][0]}" if row["failures"] else ""))
    lines.append("  beside: requests that ran while the export or the import ran; p95 b. / a.: beside them / alone")
    for name, info in result["background"].items():
        lines.append(f"  alongside: {name}: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    for name, failures in result.get("background_failures", {}).items():
        lines.append(f"  alongside: {name} FAILED: {failures[0]}")
    return "\n".join(lines)


def write_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
