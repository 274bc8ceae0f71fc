"""The 25 자치구 of Seoul as a tile grid map (the city statistics by 자치구), built on the shared
parts of charts.py: a tile per 구 where the city's shape puts it, shaded by its figure in five
classes; a hidden figure is a hatched tile that says so."""
from __future__ import annotations

from markupsafe import Markup, escape

from .charts import INK, MUTED, _STEPS, _defs, _legend, _summary, _svg, _uid, _value_text, gettext
from .suppression import cell_text
from .tables import PublishedTable

#: the 5 shading classes of the grid map (light to dark) and the ink on each
SHADES = [("#d8e5fd", "#1e2124"), ("#86aff9", "#1e2124"), ("#256ef4", "#fff"), ("#083891", "#fff"),
          ("#03163a", "#fff")]
#: (column, row) of each 자치구 on a 7 x 5 tile grid that keeps the city's shape
SEOUL_TILES = {
    "은평구": (2, 0), "강북구": (3, 0), "도봉구": (4, 0), "노원구": (5, 0),
    "마포구": (1, 1), "서대문구": (2, 1), "종로구": (3, 1), "성북구": (4, 1), "동대문구": (5, 1), "중랑구": (6, 1),
    "강서구": (0, 2), "영등포구": (1, 2), "용산구": (2, 2), "중구": (3, 2), "성동구": (4, 2), "광진구": (5, 2),
    "강동구": (6, 2),
    "양천구": (0, 3), "구로구": (1, 3), "동작구": (2, 3), "서초구": (3, 3), "강남구": (4, 3), "송파구": (5, 3),
    "금천구": (1, 4), "관악구": (2, 4),
}
TILE, TILE_GAP, MAP_PAD = 72, 4, 8


def _short_gu(name: str) -> str:
    """'마포구' -> '마포'; '중구' stays (one syllable alone reads as a word, not a place);
    'Mapo-gu' -> 'Mapo'."""
    if name.endswith("-gu"):
        return name[:-3]
    return name[:-1] if name.endswith("구") and len(name) > 2 else name


def _classes(values: list[int]) -> tuple[int, list[str]]:
    """A round class width splitting 0..max into 5 shades, and the legend label of each class."""
    step = next(s for s in _STEPS if s * 5 >= max(values, default=0))
    labels = [(f"{k * step:,}" if step == 1 else f"{k * step:,}–{(k + 1) * step - 1:,}") for k in range(4)]
    return step, labels + [gettext("%(n)s 이상", n=f"{4 * step:,}")]


def grid_map(table: PublishedTable, column: int | str | None = None, uid: str | None = None) -> Markup:
    """The 25 자치구 as tiles shaded by the row total (or one column) in 5 classes; hidden values
    are hatched tiles saying "5 미만"/"비공개"; a 구 with no row is grey with "–"."""
    src = table.source
    j = src.columns.index(column) if isinstance(column, str) else column
    uid = _uid(table, "grid" if j is None else f"grid-{j}", uid)
    keys = src.row_keys or src.rows
    by_gu = {keys[i]: (table.row_totals[i] if j is None else table.cells[i][j]) for i in range(len(src.rows))}
    names = dict(zip(keys, src.rows))  # the 구's name in the reader's language
    step, class_labels = _classes([c.value for c in by_gu.values() if c.shown])
    out = [_defs(uid)]
    for gu, (col, row) in SEOUL_TILES.items():
        x, y = MAP_PAD + col * (TILE + TILE_GAP), MAP_PAD + row * (TILE + TILE_GAP)
        cell = by_gu.get(gu)
        hidden = cell is not None and not cell.shown
        if cell is None:
            fill, ink, text, tip = "#f4f5f6", MUTED, "–", gettext("자료 없음")
        elif hidden:
            fill, ink, text = f"url(#{uid}-hatch)", INK, cell_text(cell, table.threshold)
            tip = text
        else:
            (fill, ink), text, tip = SHADES[min(cell.value // step, 4)], f"{cell.value:,}", _value_text(cell, table)
        extra = ' stroke-dasharray="3 2"' if cell is None else ""
        halo = ' stroke="#fff" stroke-width="3" paint-order="stroke"' if hidden else ""
        name = str(names.get(gu, gu))
        size = 13 if len(_short_gu(name)) <= 8 else 10
        out.append(f'<g class="gu-tile{" gu-hidden" if hidden else ""}" '
                   f'data-gu="{escape(gu)}"><title>{escape(name)}: {escape(tip)}</title>'
                   f'<rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="4" fill="{fill}" stroke="{MUTED}" '
                   f'stroke-width="0.75"{extra}/><text x="{x + TILE / 2}" y="{y + 30}" font-size="{size}" '
                   f'font-weight="600" fill="{ink}" text-anchor="middle"{halo}>{escape(_short_gu(name))}</text>'
                   f'<text x="{x + TILE / 2}" y="{y + 50}" font-size="12" fill="{ink}" text-anchor="middle"{halo}>'
                   f'{escape(text)}</text></g>')
    width = MAP_PAD * 2 + 7 * (TILE + TILE_GAP) - TILE_GAP
    swatches = [(f'<rect width="12" height="12" fill="{fill}" stroke="{MUTED}" stroke-width="0.5"/>', label)
                for (fill, _), label in zip(SHADES, class_labels)]
    if any(not c.shown for c in by_gu.values()):
        swatches.append((f'<rect width="12" height="12" fill="url(#{uid}-hatch)" stroke="{MUTED}"/>',
                         gettext("%(k)s 미만 또는 비공개", k=table.threshold)))
    if any(gu not in by_gu for gu in SEOUL_TILES):
        swatches.append((f'<rect width="12" height="12" fill="#f4f5f6" stroke="{MUTED}" stroke-dasharray="3 2"/>',
                         gettext("자료 없음")))
    legend_y = MAP_PAD + 5 * (TILE + TILE_GAP) + 8
    legend, legend_h = _legend(swatches, MAP_PAD, legend_y, width - 2 * MAP_PAD)
    title = src.title if j is None else f"{src.title} — {src.columns[j]}"
    return _svg("grid", uid, width, legend_y + legend_h + 4, title, _summary(table, title), "".join(out) + legend)
