"""The SVG charts and the panel macro: well-formed, safe, faithful to the published numbers, and
never showing a hidden value (as a number, a bar length or a point height)."""
from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import render_template_string

from app.reports import charts, charts_lines, charts_map
from app.reports.tables import COMPLEMENT, SMALL, Cell, CountTable, PublishedTable

SVG = "{http://www.w3.org/2000/svg}"
STATUSES = ["요청 접수", "검토 중", "지원 대상 선정", "지원 중"]
#: true values of hidden cells chosen to appear nowhere else (not a total, tick or coordinate)
SECRET_SMALL, SECRET_COMPLEMENT = 3, 987


def publish(src: CountTable, hide=(), hide_totals=(), threshold=5) -> PublishedTable:
    """A hand-made PublishedTable: ``hide`` = [(i, j, SMALL|COMPLEMENT)], ``hide_totals`` = [(i, kind)]."""
    cells = [[Cell(v) for v in row] for row in src.cells]
    for i, j, kind in hide:
        cells[i][j] = Cell(None, kind)
    row_totals = [Cell(t) for t in src.row_totals()]
    for i, kind in hide_totals:
        row_totals[i] = Cell(None, kind)
    return PublishedTable(src, cells, row_totals, [Cell(t) for t in src.column_totals()], Cell(src.total()),
                          threshold, True)


def bar_table(**kw) -> PublishedTable:
    src = CountTable("cases_by_status", "상태별 사례", "학교", ["서울가나다라마바사아자차카초등학교", "<&>학교", "서울중학교"],
                     STATUSES, [[12, 8, 40, 7], [6, SECRET_COMPLEMENT, SECRET_SMALL, 30], [100, 20, 10, 17]],
                     note="기간 내 접수된 사례의 현재 상태")
    return publish(src, hide=[(1, 1, COMPLEMENT), (1, 2, SMALL)], **kw)


MONTH_KEYS = [f"2026-{m:02d}" for m in range(3, 13)] + ["2027-01", "2027-02"]


def line_table() -> PublishedTable:
    src = CountTable("trend", "월별 요청과 선정", "월", [f"{k[:4]}년 {int(k[5:])}월" for k in MONTH_KEYS], ["요청", "선정"],
                     [[12 + i, 10 + i] for i in range(12)], chart="line", row_keys=MONTH_KEYS)
    src.cells[4][0] = SECRET_SMALL
    return publish(src, hide=[(4, 0, SMALL)])


def seoul_gus() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "app" / "data" / "seoul_education_offices.csv"
    with path.open(encoding="utf-8") as f:
        return [row["gu_ko"] for row in csv.DictReader(f)]


def grid_table() -> PublishedTable:
    gus = seoul_gus()
    src = CountTable("by_gu", "자치구별 사례", "자치구", gus, ["사례"], [[10 + i * 10] for i in range(25)],
                     chart="grid", row_keys=gus)
    hidden = gus.index("노원구")
    src.cells[hidden][0] = SECRET_SMALL
    return publish(src, hide=[(hidden, 0, SMALL)], hide_totals=[(hidden, SMALL)])


def parse(svg) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    return root


def assert_safe(svg) -> ET.Element:
    root = parse(svg)
    assert root.get("role") == "img" and root.get("width") == "100%" and root.get("viewBox")
    assert root.get("font-family") == "inherit"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id and root.find(f"{SVG}desc").get("id") == desc_id
    for el in root.iter():
        assert el.tag != f"{SVG}script" and el.tag != f"{SVG}foreignObject"
        assert not [a for a in el.attrib if a.lower().startswith("on")], el.attrib
        assert "style" not in el.attrib  # the CSP (style-src 'self') forbids inline styles
    return root


def texts(el: ET.Element) -> list[str]:
    return [t for t in el.itertext() if t.strip()]


def numbers_in_text(el: ET.Element) -> set[int]:
    return {int(n.replace(",", "")) for t in el.itertext() for n in re.findall(r"\d[\d,]*", t)}


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


# ---- bars ---------------------------------------------------------------------------------------
def test_bar_segments_are_proportional_and_hidden_cells_are_not_drawn():
    table = bar_table()
    root = assert_safe(charts.bar_chart(table))
    rows = by_class(root, "bar-row")
    assert len(rows) == 3
    widths = {}
    for i, row in enumerate(rows):
        segs = by_class(row, "bar-seg")
        for seg in segs:
            j = int(seg.get("data-col"))
            widths[(i, j)] = float(seg.get("width"))
        shown = [j for j, c in enumerate(table.cells[i]) if c.shown]
        assert sorted(int(s.get("data-col")) for s in segs) == shown
    scale = widths[(2, 0)] / 100
    for (i, j), w in widths.items():
        assert abs(w - table.cells[i][j].value * scale) < 1, (i, j)
    # segments are laid end to end from the same origin
    xs = [float(s.get("x")) for s in by_class(rows[2], "bar-seg")]
    assert all(abs(xs[k + 1] - xs[k] - widths[(2, k)]) < 0.2 for k in range(3))
    # only the incomplete bar ends with the hatched stub
    assert [len(by_class(r, "bar-hidden")) for r in rows] == [0, 1, 0]
    stub = by_class(rows[1], "bar-hidden")[0]
    assert stub.find(f"{SVG}title").text == "일부 값 비공개"
    assert texts(by_class(rows[1], "bar-total")[0]) == [f"{6 + SECRET_COMPLEMENT + SECRET_SMALL + 30:,}"]
    assert SECRET_COMPLEMENT not in numbers_in_text(root)


def test_bar_labels_are_escaped_and_truncated_with_the_full_label_in_a_title():
    svg = str(charts.bar_chart(bar_table()))
    assert "&lt;&amp;&gt;학교" in svg and "<&>" not in svg
    root = parse(svg)
    labels = by_class(root, "bar-label")
    assert labels[1].find(f"{SVG}title").text == "<&>학교"
    long_text = labels[0].find(f"{SVG}text").text
    assert long_text == "서울가나다라마바사아자차카…" and len(long_text) == 14
    assert labels[0].find(f"{SVG}title").text == "서울가나다라마바사아자차카초등학교"
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("학교별 상태별 사례, 3개 학교, 합계 1,240건")


def test_bar_row_total_hidden_says_so():
    table = bar_table(hide_totals=[(1, SMALL)])
    root = assert_safe(charts.bar_chart(table))
    assert texts(by_class(by_class(root, "bar-row")[1], "bar-total")[0]) == ["5 미만"]


def test_a_130_row_bar_chart_draws_the_largest_rows_and_says_so():
    cols = [f"항목{j}" for j in range(10)]
    cells = [[(i * 7 + j * 3) % 31 for j in range(10)] for i in range(130)]
    src = CountTable("big", "학교별 상태", "학교", [f"서울{i}초등학교" for i in range(130)], cols, cells)
    root = assert_safe(charts.bar_chart(publish(src)))
    rows = by_class(root, "bar-row")
    assert len(rows) == charts.MAX_BARS
    largest = sorted(range(130), key=lambda i: (-sum(cells[i]), i))[:charts.MAX_BARS]
    drawn = [row.find(f"{SVG}g/{SVG}title").text for row in rows]
    assert drawn == [f"서울{i}초등학교" for i in largest]
    assert "나머지 115곳" in ET.tostring(root, encoding="unicode")
    small = assert_safe(charts.bar_chart(bar_table()))
    assert float(root.get("viewBox").split()[3]) > charts.MAX_BARS * 20 > float(small.get("viewBox").split()[3])
    # every column gets a legend entry; patterned fills are defined once
    assert len(by_class(root, "chart-legend-item")) == 10
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


def test_empty_tables_still_make_well_formed_charts():
    for kind in ("bar", "line", "grid"):
        src = CountTable("empty", "빈 표", "학교", [], STATUSES, [], chart=kind)
        assert_safe(charts.chart(publish(src)))


# ---- lines --------------------------------------------------------------------------------------
def test_line_breaks_at_a_hidden_point_with_a_hollow_marker():
    table = line_table()
    root = assert_safe(charts_lines.line_chart(table))
    paths = [p for p in by_class(root, "line-seg") if p.get("data-col") == "0"]
    assert len(paths) == 2                      # March-June, then August-February
    assert [p.get("d").count("L") + 1 for p in paths] == [4, 7]
    assert len([p for p in by_class(root, "line-seg") if p.get("data-col") == "1"]) == 1
    points = [g for g in by_class(root, "line-point") if g.get("data-col") == "0"]
    assert len(points) == 11
    hidden = by_class(root, "line-hidden")
    assert len(hidden) == 1 and hidden[0].find(f"{SVG}title").text == "2026년 7월 요청 5 미만"
    marker = hidden[0].find(f"{SVG}circle")
    # drawn on the axis, never at a height that would tell its value
    axis_y = max(float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    assert float(marker.get("cy")) == axis_y
    # the hidden x is not a vertex of any line
    hx = marker.get("cx")
    assert all(f"{hx} " not in p.get("d") for p in paths)
    titles = [g.find(f"{SVG}title").text for g in points]
    assert titles[0] == "2026년 3월 요청 12건"
    assert SECRET_SMALL not in {int(t.split()[-1][:-1]) for t in titles}


def test_line_ticks_are_nice():
    root = parse(charts_lines.line_chart(line_table()))
    assert charts.nice_ticks(23) == [0, 10, 20, 30]
    assert charts.nice_ticks(345) == [0, 100, 200, 300, 400]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(95) == [0, 25, 50, 75, 100]
    assert 4 <= len(charts.nice_ticks(12)) <= 5
    assert "0" in texts(root) and "30" in texts(root)
    assert root.find(f"{SVG}desc").text == "월별 요청과 선정, 12개월, 합계 {:,}건, 2026년 3월–2027년 2월".format(
        line_table().source.total())


# ---- grid map -----------------------------------------------------------------------------------
def test_grid_map_has_the_25_gu_and_hatches_a_hidden_one():
    table = grid_table()
    root = assert_safe(charts_map.grid_map(table))
    tiles = by_class(root, "gu-tile")
    assert sorted(t.get("data-gu") for t in tiles) == sorted(seoul_gus())
    assert set(charts_map.SEOUL_TILES) == set(seoul_gus())
    assert len(set(charts_map.SEOUL_TILES.values())) == 25          # no two tiles on one spot
    tile = {t.get("data-gu"): t for t in tiles}
    assert texts(tile["마포구"])[1:] == ["마포", f"{table.row_totals[seoul_gus().index('마포구')].value:,}"]
    assert texts(tile["중구"])[1] == "중구"
    hidden = [t for t in tiles if "gu-hidden" in t.get("class").split()]
    assert [t.get("data-gu") for t in hidden] == ["노원구"]
    assert texts(hidden[0])[1:] == ["노원", "5 미만"]
    assert hidden[0].find(f"{SVG}rect").get("fill").startswith("url(#")
    # five shades in use, darker for larger values
    fills = {t.get("data-gu"): t.find(f"{SVG}rect").get("fill") for t in tiles if t not in hidden}
    assert len(set(fills.values())) == 5


def test_grid_map_of_one_column_and_missing_gu():
    gus = seoul_gus()[:3]
    src = CountTable("by_gu2", "자치구별 위기 수준", "자치구", gus, ["일반", "긴급"], [[10, 20], [30, 40], [50, 60]],
                     chart="grid", row_keys=gus)
    root = assert_safe(charts_map.grid_map(publish(src), column="긴급"))
    tile = {t.get("data-gu"): t for t in by_class(root, "gu-tile")}
    assert texts(tile[gus[0]])[-1] == "20" and texts(tile["강남구"])[-1] == "–"
    assert root.find(f"{SVG}title").text == "자치구별 위기 수준 — 긴급"
    assert charts_map.grid_map(publish(src), column=1) == charts_map.grid_map(publish(src), column="긴급")


def test_chart_dispatches_on_the_table_kind():
    assert "report-chart-line" in charts.chart(line_table())
    assert "report-chart-grid" in charts.chart(grid_table())
    assert "report-chart-bar" in charts.chart(bar_table())


# ---- the panel ----------------------------------------------------------------------------------
class Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts, with captions and header scopes."""

    def __init__(self):
        super().__init__()
        self.tables, self.captions, self.scopes, self._cell, self._in_caption = [], [], [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "th":
                self.scopes.append(attrs.get("scope"))
        elif tag == "caption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_caption:
            self.captions[-1] += data


def render_panel(app, table, svg="", links=None, printable=False) -> str:
    with app.test_request_context():
        return render_template_string('{% from "reports/_panel.html" import panel %}{{ panel(t, svg, links, p) }}',
                                      t=table, svg=svg, links=links, p=printable)


def expected_rows(table: PublishedTable) -> list[list[str]]:
    def text(c):
        return "5 미만" if c.hidden == SMALL else "비공개" if c.hidden else f"{c.value:,}"
    src = table.source
    head = [src.row_heading, *src.columns, "합계"]
    body = [[label, *(text(c) for c in table.cells[i]), text(table.row_totals[i])] for i, label in enumerate(src.rows)]
    return [head, *body, ["합계", *(text(c) for c in table.column_totals), text(table.total)]]


@pytest.mark.parametrize("make", [bar_table, line_table, grid_table])
def test_panel_table_shows_the_published_numbers_and_never_a_hidden_value(app, make):
    table = make()
    html = render_panel(app, table, charts.chart(table), [("XLSX 내려받기", "/x.xlsx"), ("CSV", "/x.csv")])
    parsed = Tables()
    parsed.feed(html)
    # on a dashboard the table is rendered once, inside the disclosure
    assert len(parsed.tables) == 1 and parsed.tables[0] == expected_rows(table)
    assert parsed.captions[0].startswith(table.source.title)
    assert set(parsed.scopes) == {"col", "row"}
    assert html.count('scope="col"') == len(table.source.columns) + 2
    assert '<summary class="btn-conts-expand">표로 보기</summary>' in html and "report-print-only" not in html
    # the printed report shows the same table itself, with no disclosure
    printed = render_panel(app, table, charts.chart(table), printable=True)
    again = Tables()
    again.feed(printed)
    assert again.tables == parsed.tables and "<details" not in printed
    assert 'class="krds-table-wrap ieum-table-scroll report-print-only report-always"' in printed
    assert '<h3 class="report-panel-title"' in html and table.source.title in html
    assert "/x.xlsx" in html and "<script" not in html
    assert "5 미만" in html and "개인을 알아볼 수 없도록" in html
    # the hidden true values: no cell, title, label or attribute anywhere says them
    cells = [c for t in parsed.tables for row in t for c in row]
    assert str(SECRET_SMALL) not in cells
    assert not re.search(rf"(?<![\d.,]){SECRET_COMPLEMENT}(?![\d.,])", html)
    hidden_cells = re.findall(r'<td class="num[^"]*" data-hidden="(\w+)">([^<]*)</td>', html)
    assert hidden_cells and all(text == ("5 미만" if kind == SMALL else "비공개") for kind, text in hidden_cells)
    for title in re.findall(r"<title>([^<]*)</title>", html):
        assert not re.search(rf"(?<![\d,]){SECRET_SMALL}(?:건|$)", title), title


def test_panel_escapes_labels_and_shows_complement_cells(app):
    html = render_panel(app, bar_table(), charts.bar_chart(bar_table()))
    assert "<&>학교" not in html and "&lt;&amp;&gt;학교" in html
    assert html.count(">비공개</td>") == 1 and html.count(">5 미만</td>") == 1
    assert 'class="report-panel-exports"' not in html


def test_panel_empty_state(app):
    for src in (CountTable("none", "빈 표", "학교", [], STATUSES, []),
                CountTable("zero", "0건 표", "학교", ["서울초등학교"], STATUSES, [[0, 0, 0, 0]])):
        html = render_panel(app, publish(src), charts.chart(publish(src)))
        assert "이 기간에 해당하는 자료가 없습니다." in html
        assert "<table" not in html and "<svg" not in html and src.title in html
