"""Business days in Korea: weekends and public holidays (the ``holidays`` package, including
substitute holidays) are not working days.  Deadlines such as a referral's response date use it."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _korean_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("KR", years=year))


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday and not a Korean public holiday."""
    return day.weekday() < 5 and day not in _korean_holidays(day.year)


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The day ``days`` business days after ``start`` (start itself does not count)."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_business_day(day)
    return count
