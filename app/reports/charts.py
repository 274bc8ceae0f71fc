"""Server-rendered SVG charts of a ``PublishedTable``: stacked bars here, monthly lines in
charts_lines.py, the 25 자치구 in charts_map.py; their shared parts here.

Pure functions returning ``Markup``.  The CSP allows no inline script or ``style=`` attribute, so
only SVG presentation attributes (fill, stroke) and classes are used.  Every label is escaped.
A hidden cell is never drawn as a size or a position: bars end with a fixed-width hatched stub,
lines break with a hollow marker on the axis, tiles are hatched; each says "5 미만" or "비공개".
Colours differ in lightness and pattern too, so a greyscale print stays readable."""
from __future__ import annotations

import dataclasses
import math
import re

from flask import has_request_context
from flask_babel import gettext as _gettext
from markupsafe import Markup, escape

from .suppression import cell_text, with_unit
from .tables import Cell, PublishedTable

#: (fill, ink for a label on it, overlay pattern): three lightness levels (dark, light, mid) in
#: turn, solid first, then striped or dotted, so neighbours and greyscale prints stay apart
PALETTE = [("#0b50d0", "#fff", None), ("#ffc95c", "#1e2124", None), ("#3fa654", "#1e2124", None),
           ("#8a5c00", "#fff", "stripe"), ("#b1cefb", "#1e2124", "dot"), ("#2098f3", "#1e2124", "dot"),
           ("#285d33", "#fff", "dot"), ("#ffe0a3", "#1e2124", "stripe"), ("#6d7882", "#fff", "stripe"),
           ("#c78500", "#1e2124", "back")]
#: line series: (colour, stroke-dasharray, marker shape)
LINES = [("#0b50d0", "", "circle"), ("#c78500", "6 3", "square"), ("#228738", "2 3", "triangle"),
         ("#ab2b36", "8 3 2 3", "diamond"), ("#063a74", "", "square"), ("#58616a", "6 3", "circle")]
INK, MUTED, RULE = "#1e2124", "#58616a", "#e6e8ea"
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{4})년\s*(\d{1,2})월$")


def gettext(text: str, **kwargs) -> str:
    """Translated in a request (the reader's language); Korean elsewhere (CLI, exports, tests)."""
    return _gettext(text, **kwargs) if has_request_context() else text % kwargs if kwargs else text


def chart(table: PublishedTable, **kwargs) -> Markup:
    """The chart the table asks for (``source.chart``): bar, line or grid."""
    kind = table.source.chart
    if kind == "grid":
        from .charts_map import grid_map  # it builds on this module's parts
        return grid_map(table, **kwargs)
    if kind == "line":
        from .charts_lines import line_chart  # so does this one
        return line_chart(table, **kwargs)
    return bar_chart(table, **kwargs)


# ---- shared parts ------------------------------------------------------------------------------
def _n(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _width(text: str, size: float) -> float:
    """Rough rendered width: Hangul and CJK take a full em, the rest about 0.6 em."""
    return sum(size * (1.0 if ord(ch) >= 0x1100 else 0.6) for ch in text)


def _truncate(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _uid(table: PublishedTable, kind: str, uid: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", uid or f"chart-{table.source.key}-{kind}")


def _value_text(cell: Cell, table: PublishedTable) -> str:
    """A cell with its unit when it is a number: '12건', '5 미만', '비공개'."""
    text = cell_text(cell, table.threshold)
    return with_unit(text, table.source.unit) if cell.shown else text


def _summary(table: PublishedTable, title: str, extra: str = "") -> str:
    src, n = table.source, len(table.source.rows)
    rows = gettext("%(n)s개월", n=n) if src.chart == "line" else gettext("%(n)s개 %(what)s", n=n,
                                                                             what=src.row_heading)
    if not title.startswith(gettext("%(by)s별", by=src.row_heading)):  # "학교별 상태별 사례"
        title = gettext("%(by)s별 %(title)s", by=src.row_heading, title=title)
    return gettext("%(title)s, %(rows)s, 합계 %(total)s", title=title, rows=rows,
                   total=_value_text(table.total, table)) + extra


def _defs(uid: str, palette: bool = False) -> str:
    """The hatch of hidden values and, for bars, the patterned palette fills."""
    out = [f'<pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
           f'<line x1="0" y1="0" x2="0" y2="6" stroke="{MUTED}" stroke-width="2"/></pattern>']
    for j, (fill, ink, pattern) in enumerate(PALETTE if palette else []):
        if not pattern:
            continue
        mark = (f'<circle cx="3" cy="3" r="1.2" fill="{ink}" fill-opacity="0.6"/>' if pattern == "dot" else
                f'<line x1="0" y1="0" x2="0" y2="6" stroke="{ink}" stroke-width="1.5" stroke-opacity="0.55"/>')
        out.append(f'<pattern id="{uid}-p{j}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform='
                   f'"rotate({-45 if pattern == "back" else 45})"><rect width="6" height="6" fill="{fill}"/>{mark}</pattern>')
    return "<defs>" + "".join(out) + "</defs>"


def _fill(uid: str, j: int) -> tuple[str, str]:
    fill, ink, pattern = PALETTE[j % len(PALETTE)]
    return (f"url(#{uid}-p{j % len(PALETTE)})" if pattern else fill), ink


def _legend(items: list[tuple[str, str]], x: float, y: float, width: float) -> tuple[str, float]:
    """Swatches (SVG markup drawn in a 12x12 box at 0,0) with labels, wrapped; returns (markup, height)."""
    out, cx, cy = [], x, y
    for swatch, label in items:
        w = 18 + _width(label, 12) + 16
        if cx > x and cx + w > x + width:
            cx, cy = x, cy + 20
        out.append(f'<g class="chart-legend-item" transform="translate({_n(cx)},{_n(cy)})">{swatch}'
                   f'<text x="18" y="10.5" font-size="12" fill="{INK}">{escape(label)}</text></g>')
        cx += w
    return "".join(out), (cy - y + 20 if items else 0)


def _svg(kind: str, uid: str, width: float, height: float, title: str, desc: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart report-chart-{kind}" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'font-family="inherit" aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(desc)}</desc>'
        f'{body}</svg>')


#: round steps for axes and classes: 1, 2, 5, 10, 20, 25, 50, 100, ...
_STEPS = sorted({int(m * 10 ** k) for k in range(13) for m in (1, 2, 2.5, 5) if (m * 10 ** k) % 1 == 0})


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """0 and at most ``count`` round steps reaching ``top`` (0..1 when there is nothing)."""
    top = max(math.ceil(top), 1)
    step = next(s for s in _STEPS if s * count >= top)
    return list(range(0, step * math.ceil(top / step) + 1, step))


# ---- bars --------------------------------------------------------------------------------------
BAR_W, BAR_LABEL, BAR_TOTAL, BAR_H, BAR_PITCH = 760, 196, 76, 18, 26


#: a district has up to ~200 schools: the chart draws the largest rows, the table has them all
MAX_BARS = 15


def _largest_rows(table: PublishedTable, n: int) -> PublishedTable:
    """The ``n`` rows with the largest shown totals (hidden totals are small: they rank last)."""
    ranked = sorted(range(len(table.source.rows)),
                    key=lambda i: (-(table.row_totals[i].value if table.row_totals[i].shown else -1), i))[:n]
    src = table.source
    keys = [src.row_keys[i] for i in ranked] if src.row_keys else []
    source = dataclasses.replace(src, rows=[src.rows[i] for i in ranked], cells=[src.cells[i] for i in ranked],
                                 row_keys=keys)
    return dataclasses.replace(table, source=source, cells=[table.cells[i] for i in ranked],
                               row_totals=[table.row_totals[i] for i in ranked])


def bar_chart(table: PublishedTable, uid: str | None = None) -> Markup:
    """Horizontal stacked bars, one per row, one colour per column; hidden cells are left out and
    the bar ends with a hatched stub; the row total is printed at its end.  Past MAX_BARS rows
    the largest are drawn, and a line under the chart says so."""
    uid = _uid(table, "bar", uid)
    omitted = len(table.source.rows) - MAX_BARS
    if omitted > 0:
        table = _largest_rows(table, MAX_BARS)
    src = table.source
    swatches = []
    for j, column in enumerate(src.columns):
        fill, _ = _fill(uid, j)
        swatches.append((f'<rect width="12" height="12" fill="{fill}" stroke="{MUTED}" stroke-width="0.5"/>', column))
    if any(not c.shown for row in table.cells for c in row):
        swatches.append((f'<rect width="12" height="12" fill="url(#{uid}-hatch)" stroke="{MUTED}"/>',
                         gettext("일부 값 비공개")))
    legend, legend_h = _legend(swatches, 8, 8, BAR_W - 16)
    shown_sums = [sum(c.value for c in row if c.shown) for row in table.cells]
    ticks = nice_ticks(max(shown_sums, default=0))
    x0, plot_w = BAR_LABEL, BAR_W - BAR_LABEL - BAR_TOTAL - 14
    scale = plot_w / ticks[-1]
    top = 8 + legend_h + 22
    height = top + len(src.rows) * BAR_PITCH + 8
    out = [_defs(uid, palette=True), legend]
    for t in ticks:
        x = x0 + t * scale
        out.append(f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{height - 8}" stroke="{RULE}"/>'
                   f'<text x="{_n(x)}" y="{top - 8}" font-size="11" fill="{MUTED}" text-anchor="middle">{t:,}</text>')
    # per column once: (fill, ink, halo on a patterned fill), and the start of each segment's tooltip
    styles = [(fill, ink, f' stroke="{PALETTE[j % len(PALETTE)][0]}"' if fill.startswith("url") else "")
              for j, (fill, ink) in enumerate(_fill(uid, j) for j in range(len(src.columns)))]
    tips = [escape(f"{column}: ") for column in src.columns]
    stub_tip = escape(gettext("일부 값 비공개"))
    for i, label in enumerate(src.rows):
        # a row is a group moved into place: its shapes only carry x and width (130 x 10 bars stay light)
        y = top + i * BAR_PITCH + (BAR_PITCH - BAR_H) / 2
        out.append(f'<g class="bar-row" transform="translate(0,{y:.1f})"><g class="bar-label"><title>{escape(label)}'
                   f'</title><text x="{x0 - 8}" y="13" font-size="13" fill="{INK}" text-anchor="end">'
                   f'{escape(_truncate(label))}</text></g><g stroke="#fff" stroke-width="0.5">')
        x, values = x0, []
        for j, cell in enumerate(table.cells[i]):
            if not cell.shown or not cell.value:
                continue
            w, (fill, ink, halo), text = cell.value * scale, styles[j], f"{cell.value:,}"
            out.append(f'<rect class="bar-seg" data-col="{j}" x="{x:.1f}" width="{w:.1f}" height="{BAR_H}" '
                       f'fill="{fill}"><title>{tips[j]}{escape(with_unit(text, src.unit))}</title></rect>')
            if w >= len(text) * 6.6 + 8:
                values.append(f'<text x="{x + w / 2:.1f}" fill="{ink}"{halo}>{text}</text>')
            x += w
        out.append('</g>')
        if values:
            out.append('<g transform="translate(0,13)" font-size="11" text-anchor="middle" stroke-width="3" '
                       'paint-order="stroke" aria-hidden="true">' + "".join(values) + '</g>')
        if any(not c.shown for c in table.cells[i]) or not table.row_totals[i].shown:
            out.append(f'<rect class="bar-hidden" x="{x + 1:.1f}" width="10" height="{BAR_H}" '
                       f'fill="url(#{uid}-hatch)" stroke="{MUTED}" stroke-width="0.75"><title>{stub_tip}</title></rect>')
            x += 12
        out.append(f'<text class="bar-total" x="{x + 6:.1f}" y="13" font-size="12" font-weight="600" '
                   f'fill="{INK}">{escape(cell_text(table.row_totals[i], table.threshold))}</text></g>')
    if omitted > 0:
        note = gettext("합계가 큰 %(n)s곳만 그렸습니다 (나머지 %(rest)s곳은 '표로 보기'에 있습니다).", n=MAX_BARS,
                       rest=omitted)
        out.append(f'<text x="8" y="{height + 6}" font-size="12" fill="{MUTED}">{escape(note)}</text>')
        height += 22
    noun = gettext("%(n)s개", n=len(src.columns))
    desc = _summary(table, src.title, gettext(" (%(cols)s 항목: %(names)s)", cols=noun, names=", ".join(src.columns)))
    return _svg("bar", uid, BAR_W, height, src.title, desc, "".join(out))
