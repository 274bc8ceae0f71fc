"""District and city figures are kept per worker for REPORT_CACHE_SECONDS (counted at most that long
ago, and the page says when); the school team's own figures are always counted afresh."""
from __future__ import annotations

import dataclasses

from freezegun import freeze_time

from app.extensions import db
from app.reports.dashboards import build
from app.reports.tables import Scope

from .conftest import semester1


def requests(dashboard) -> int:
    """The cases counted behind the page (before suppression: the test compares counts)."""
    return dashboard.panel("cases_by_status").table.source.total()


def test_district_figures_are_kept_for_the_cache_time_and_school_figures_never(app, data, district):
    app.config["REPORT_CACHE_SECONDS"] = 600
    school = Scope("school", "school", school_id=district.A.id, office_code="SEOBU", name="가나초등학교")
    with freeze_time("2026-07-15 03:00:00") as clock:
        first, school_before = build(district.scope, semester1()), build(school, semester1())
        for day in ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"):
            data.case(district.A, day)
        db.session.commit()
        clock.tick(300)
        cached, school_after = build(district.scope, semester1()), build(school, semester1())
        assert cached.counted_at == first.counted_at and requests(cached) == requests(first)
        assert school_after.counted_at > school_before.counted_at
        assert requests(school_after) == requests(school_before) + 5
        clock.tick(301)
        fresh = build(district.scope, semester1())
        assert fresh.counted_at > first.counted_at and requests(fresh) == requests(first) + 5
        # another filter setting is another entry
        other = build(district.scope, dataclasses.replace(semester1(), school_level="middle"))
        assert other.counted_at == fresh.counted_at or other.counted_at > first.counted_at


def test_without_a_cache_time_every_build_counts(app, data, district):
    assert app.config["REPORT_CACHE_SECONDS"] == 0
    with freeze_time("2026-07-15 03:00:00"):
        before = build(district.scope, semester1())
        data.case(district.B, "2026-03-02")
        db.session.commit()
        assert requests(build(district.scope, semester1())) == requests(before) + 1
