"""Working-day deadlines on the Chinese calendar (pure, no database)."""

from datetime import date, datetime, time

import pytest

from hotline.core.clock import LOCAL_TZ
from hotline.sla.calendar import END_OF_WORKING_DAY, WorkCalendar, add_hours, complete_years, from_chinesecalendar

CAL = from_chinesecalendar()


def at(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=LOCAL_TZ)


def end_of(y, m, d):
    return datetime.combine(date(y, m, d), END_OF_WORKING_DAY, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (at(2026, 11, 27), 1, end_of(2026, 11, 30)),  # Friday → Monday: the start day never counts
        (at(2026, 11, 23), 3, end_of(2026, 11, 26)),  # plain week
        (at(2026, 9, 30), 1, end_of(2026, 10, 8)),  # National Day 2026: 10-01..10-07 off
        (at(2026, 9, 30), 3, end_of(2026, 10, 10)),  # 10-10 (Saturday) is a make-up workday (调休)
        (at(2026, 2, 13), 1, end_of(2026, 2, 14)),  # 02-14 (Saturday) is a make-up workday
        (at(2026, 2, 14), 1, end_of(2026, 2, 24)),  # Spring Festival 2026: 02-15..02-23 off
        (at(2025, 1, 27), 1, end_of(2025, 2, 5)),  # Spring Festival 2025: 01-28..02-04 off
        (at(2025, 1, 25), 1, end_of(2025, 1, 26)),  # 01-26 (Sunday) is a make-up workday
        (at(2025, 12, 31), 1, end_of(2026, 1, 4)),  # across the year end: New Year 2026 01-01..01-03 off, 01-04 worked
    ],
)
def test_add_working_days(start, n, expected):
    result = CAL.add_working_days(start, n)
    assert result.at == expected and not result.provisional


def test_beyond_the_known_years_weekdays_count_and_the_result_is_provisional():
    result = CAL.add_working_days(at(2026, 12, 30), 3)
    assert result.at == end_of(2027, 1, 4)
    assert result.provisional
    assert not CAL.add_working_days(at(2026, 12, 1), 3).provisional


def test_hour_limits_count_clock_hours_even_on_holidays():
    assert add_hours(at(2026, 10, 1, 9), 2).at == at(2026, 10, 1, 11)


def test_complete_years_only_counts_years_with_every_day():
    days = {date(2027, 1, 1): False}
    assert complete_years(days) == frozenset()
    assert 2026 in complete_years(CAL.days)


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(at(2026, 1, 5), 0)
    assert END_OF_WORKING_DAY == time(23, 59, 59)
