"""Business days skip weekends and Korean public holidays, substitute holidays included."""
import datetime as dt

import pytest

from app.business_days import add_business_days, business_days_between, is_business_day


@pytest.mark.parametrize("start, days, expected", [
    (dt.date(2026, 11, 23), 5, dt.date(2026, 11, 30)),   # a plain week: Mon + 5 = next Mon
    (dt.date(2026, 9, 23), 5, dt.date(2026, 10, 2)),     # 추석 2026: 9/24–9/26 (Thu–Sat, no substitute day)
    (dt.date(2026, 10, 2), 1, dt.date(2026, 10, 6)),     # 개천절 on Sat 10/3: substitute Mon 10/5
    (dt.date(2027, 2, 5), 1, dt.date(2027, 2, 10)),      # 설날 2027: 2/6–2/8, substitute 2/9
    (dt.date(2026, 12, 24), 1, dt.date(2026, 12, 28)),   # 성탄절
])
def test_add_business_days_across_holidays(start, days, expected):
    assert add_business_days(start, days) == expected


def test_holidays_are_not_business_days():
    assert not is_business_day(dt.date(2026, 10, 9))  # 한글날
    assert not is_business_day(dt.date(2026, 11, 28))  # Saturday
    assert is_business_day(dt.date(2026, 11, 27))
    assert business_days_between(dt.date(2026, 11, 23), dt.date(2026, 11, 30)) == 5
