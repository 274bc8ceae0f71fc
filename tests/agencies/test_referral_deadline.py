"""The response deadline counts business days with Korean public holidays (freezegun)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from app.agencies import referrals as r

from .test_referrals import draft, make_world


@pytest.mark.parametrize("now, expected", [
    ("2026-11-23 01:00:00", dt.date(2026, 11, 30)),  # Mon 10:00 KST, a plain week
    ("2026-09-23 01:00:00", dt.date(2026, 10, 2)),   # 추석 2026: 9/24–9/26 skipped
    ("2027-02-05 01:00:00", dt.date(2027, 2, 16)),   # 설날 2027: 2/6–2/8 and substitute 2/9 skipped
    ("2026-09-22 16:00:00", dt.date(2026, 10, 2)),   # 01:00 KST on 9/23 is already the 23rd in Seoul
])
def test_respond_by_skips_korean_holidays(db, build, agency_with_service, now, expected):
    with freeze_time(now):
        w = make_world(build, agency_with_service)
        referral = draft(w)
        r.send_referral(referral, w.staff)
        assert referral.respond_by == expected
        assert not r.is_overdue(referral)
    with freeze_time(dt.datetime.combine(expected, dt.time(1, 0))):
        assert not r.is_overdue(referral)  # the last day is still in time
    with freeze_time(dt.datetime.combine(expected + dt.timedelta(days=1), dt.time(1, 0))):
        assert r.is_overdue(referral)


def test_deadline_setting(make_app, build, agency_with_service):
    app = make_app(REFERRAL_RESPONSE_BUSINESS_DAYS=2)
    with app.app_context(), freeze_time("2026-09-23 01:00:00"):
        w = make_world(build, agency_with_service)
        referral = draft(w)
        r.send_referral(referral, w.staff)
        assert referral.respond_by == dt.date(2026, 9, 29)
