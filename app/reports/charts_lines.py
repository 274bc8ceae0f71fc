"""Monthly line charts (one line per column over the months), built on the parts of charts.py."""
from __future__ import annotations

import datetime as dt
import math
from itertools import groupby

from flask import has_request_context
from markupsafe import Markup, escape

from ..i18n import language
from .charts import (LINES, MUTED, RULE, _MONTH_KEY, _defs, _legend, _n, _summary, _svg, _truncate, _uid, _value_text,
                     gettext, nice_ticks)
from .tables import PublishedTable
LINE_W, LINE_PLOT_H, LINE_LEFT, LINE_RIGHT = 760, 220, 56, 24


def _month_labels(table: PublishedTable) -> list[tuple[str, str, str]]:
    """(full, short, year line) per row: ('2026년 3월', '3월', '2026년' on the first and January)."""
    out, keys = [], table.source.row_keys or table.source.rows
    for i, label in enumerate(table.source.rows):
        match = _MONTH_KEY.match(str(keys[i] if i < len(keys) else label)) or _MONTH_KEY.match(label)
        if not match:
            out.append((label, _truncate(label, 8), ""))
            continue
        y, m = int(match.group(1) or match.group(3)), int(match.group(2) or match.group(4))
        if has_request_context() and language() == "en":  # "March 2026", "Mar", "2026"
            first = dt.date(y, m, 1)
            out.append((f"{first:%B %Y}", f"{first:%b}", str(y) if i == 0 or m == 1 else ""))
            continue
        out.append((gettext("%(y)s년 %(m)s월", y=y, m=m), gettext("%(m)s월", m=m),
                    gettext("%(y)s년", y=y) if i == 0 or m == 1 else ""))
    return out


def _marker(shape: str, x: float, y: float, colour: str, fill: str) -> str:
    common = f'fill="{fill}" stroke="{colour}" stroke-width="1.5"'
    if shape == "square":
        return f'<rect x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7" {common}/>'
    if shape == "triangle":
        return f'<path d="M{_n(x)} {_n(y - 4.5)}L{_n(x + 4)} {_n(y + 3)}L{_n(x - 4)} {_n(y + 3)}Z" {common}/>'
    if shape == "diamond":
        return f'<path d="M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y)}L{_n(x)} {_n(y + 4.5)}L{_n(x - 4.5)} {_n(y)}Z" {common}/>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" {common}/>'


def line_chart(table: PublishedTable, uid: str | None = None) -> Markup:
    """One line per column over the months (rows); a hidden point breaks its line and shows as a
    hollow marker on the axis, never at a height."""
    src, uid = table.source, _uid(table, "line", uid)
    swatches = [(f'<line x1="0" y1="6" x2="12" y2="6" stroke="{c}" stroke-width="2" stroke-dasharray="{d}"/>'
                 + _marker(s, 6, 6, c, c), name) for name, (c, d, s) in
                ((name, LINES[j % len(LINES)]) for j, name in enumerate(src.columns))]
    hidden_any = any(not c.shown for row in table.cells for c in row)
    if hidden_any:
        swatches.append((f'<circle cx="6" cy="6" r="4" fill="#fff" stroke="{MUTED}" stroke-dasharray="2 1.5"/>',
                         gettext("비공개 (값을 표시하지 않음)")))
    legend, legend_h = _legend(swatches, 8, 8, LINE_W - 16)
    top = 8 + legend_h + 14
    base = top + LINE_PLOT_H
    height = base + 44
    ticks = nice_ticks(max((c.value for row in table.cells for c in row if c.shown), default=0))
    n, plot_w = len(src.rows), LINE_W - LINE_LEFT - LINE_RIGHT
    xs = [LINE_LEFT + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)) for i in range(n)]

    def y_of(v: float) -> float:
        return base - v * LINE_PLOT_H / ticks[-1]

    out = [_defs(uid), legend]
    for t in ticks:
        out.append(f'<line x1="{LINE_LEFT}" y1="{_n(y_of(t))}" x2="{LINE_W - LINE_RIGHT}" y2="{_n(y_of(t))}" '
                   f'stroke="{MUTED if t == 0 else RULE}"/><text x="{LINE_LEFT - 8}" y="{_n(y_of(t) + 4)}" '
                   f'font-size="11" fill="{MUTED}" text-anchor="end">{t:,}</text>')
    labels, every = _month_labels(table), max(1, math.ceil(n / 12))
    for i, (_, short, year) in enumerate(labels):
        if i % every == 0 or year:
            out.append(f'<text x="{_n(xs[i])}" y="{base + 16}" font-size="11" fill="{MUTED}" '
                       f'text-anchor="middle">{escape(short)}</text>')
            if year:
                out.append(f'<text x="{_n(xs[i])}" y="{base + 31}" font-size="11" fill="{MUTED}" '
                           f'text-anchor="middle">{escape(year)}</text>')
    for j, column in enumerate(src.columns):
        colour, dash, shape = LINES[j % len(LINES)]
        for shown, group in groupby(range(n), key=lambda i: table.cells[i][j].shown):
            if shown and len(run := list(group)) > 1:
                d = "".join(f"{'M' if k == 0 else 'L'}{_n(xs[i])} {_n(y_of(table.cells[i][j].value))}"
                            for k, i in enumerate(run))
                out.append(f'<path class="line-seg" data-col="{j}" d="{d}" fill="none" stroke="{colour}" '
                           f'stroke-width="2" stroke-dasharray="{dash}" stroke-linejoin="round"/>')
        for i in range(n):
            cell = table.cells[i][j]
            tip = escape(f"{labels[i][0]} {column} {_value_text(cell, table)}")
            if cell.shown:
                out.append(f'<g class="line-point" data-col="{j}"><title>{tip}</title>'
                           f'{_marker(shape, xs[i], y_of(cell.value), colour, colour)}</g>')
            else:
                out.append(f'<g class="line-hidden" data-col="{j}"><title>{tip}</title><circle cx="{_n(xs[i])}" '
                           f'cy="{_n(base)}" r="4.5" fill="#fff" stroke="{colour}" stroke-width="1.5" '
                           f'stroke-dasharray="2 1.5"/></g>')
    period = f", {labels[0][0]}–{labels[-1][0]}" if labels else ""
    return _svg("line", uid, LINE_W, height, src.title, _summary(table, src.title, period), "".join(out))
