"""Every 2025 and 2026 holiday and make-up workday, the year boundary, provisional days, pauses, the notice."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from hotline.core.clock import LOCAL_TZ
from hotline.sla.calendar import Deadline, WorkCalendar, from_chinesecalendar, yellow_card_at
from hotline.sla.notice import NoticeError, parse_calendar_text, parse_csv, parse_notice

CAL = from_chinesecalendar()
DATA = Path(__file__).resolve().parents[1] / "data"

HOLIDAYS = {
    2025: {
        "元旦": ["2025-01-01"],
        "春节": [f"2025-01-{d}" for d in range(28, 32)] + [f"2025-02-0{d}" for d in range(1, 5)],
        "清明节": ["2025-04-04", "2025-04-05", "2025-04-06"],
        "劳动节": [f"2025-05-0{d}" for d in range(1, 6)],
        "端午节": ["2025-05-31", "2025-06-01", "2025-06-02"],
        "国庆节、中秋节": [f"2025-10-0{d}" for d in range(1, 9)],
    },
    2026: {
        "元旦": ["2026-01-01", "2026-01-02", "2026-01-03"],
        "春节": [f"2026-02-{d}" for d in range(15, 24)],
        "清明节": ["2026-04-04", "2026-04-05", "2026-04-06"],
        "劳动节": [f"2026-05-0{d}" for d in range(1, 6)],
        "端午节": ["2026-06-19", "2026-06-20", "2026-06-21"],
        "中秋节": ["2026-09-25", "2026-09-26", "2026-09-27"],
        "国庆节": [f"2026-10-0{d}" for d in range(1, 8)],
    },
}
MAKEUP = {
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}
ALL_HOLIDAYS = [(y, name, d) for y, names in HOLIDAYS.items() for name, days in names.items() for d in days]
ALL_MAKEUP = [(y, d) for y, days in MAKEUP.items() for d in days]


def at(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=LOCAL_TZ)


def eod(day: date):
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("year, name, day", ALL_HOLIDAYS)
def test_every_holiday_is_a_day_off_and_never_a_deadline(year, name, day):
    day = date.fromisoformat(day)
    assert CAL.is_workday(day) == (False, False), name
    # A one-day limit received the day before lands on the first working day after the holiday run.
    result = CAL.add_working_days(at(day.year, day.month, day.day) - timedelta(days=1), 1)
    assert result.at.date() > day and CAL.is_workday(result.at.date())[0]


@pytest.mark.parametrize("year, day", ALL_MAKEUP)
def test_every_makeup_day_is_a_working_day_and_counts(year, day):
    day = date.fromisoformat(day)
    assert day.weekday() >= 5 and CAL.is_workday(day) == (True, False)
    previous_workday = day - timedelta(days=1)
    while not CAL.is_workday(previous_workday)[0]:
        previous_workday -= timedelta(days=1)
    assert CAL.add_working_days(at(previous_workday.year, previous_workday.month, previous_workday.day), 1).at == eod(
        day
    )


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_notice_gives_exactly_the_package_calendar(year):
    parsed = parse_notice((DATA / f"notice_{year}.txt").read_text())
    assert parsed.year == year and len(parsed.days) == (366 if year % 4 == 0 else 365)
    assert {d for d, (w, _) in parsed.days.items() if w != CAL.is_workday(d)[0]} == set()
    assert parsed.makeup_days == [date.fromisoformat(d) for d in MAKEUP[year]]
    assert set(parsed.holidays) == {date.fromisoformat(d) for _, _, d in ALL_HOLIDAYS if d.startswith(str(year))}


def test_year_boundary_and_provisional_days():
    assert CAL.add_working_days(at(2025, 12, 31), 1).at == eod(date(2026, 1, 4))  # 01-04 is a make-up day
    late = CAL.add_working_days(at(2026, 12, 30), 3)
    assert late.at == eod(date(2027, 1, 4)) and late.provisional  # 2027 unknown: weekdays count
    assert not CAL.add_working_days(at(2026, 12, 28), 3).provisional  # 12-29..12-31 all in 2026
    assert CAL.add_working_days(at(2026, 12, 31), 1).provisional


def test_a_configured_end_of_office_hours_applies_everywhere():
    office = WorkCalendar(days=CAL.days, known_years=CAL.known_years, day_ends=time(17, 30))
    assert office.add_working_days(at(2026, 11, 27), 1).at == datetime(2026, 11, 30, 17, 30, tzinfo=LOCAL_TZ)
    assert office.previous_working_day_end(datetime(2026, 11, 30, 17, 30, tzinfo=LOCAL_TZ)) == datetime(
        2026, 11, 27, 17, 30, tzinfo=LOCAL_TZ
    )


def test_yellow_card_in_the_last_fifth_at_most_one_working_day_before():
    # ten working days: one working day before (the end of the last working day before the deadline's)
    assert yellow_card_at(eod(date(2026, 10, 8)), 10, "working_days", CAL) == eod(date(2026, 9, 30))
    # three working days: 0.6 of the deadline's own day is left, not a whole day
    assert yellow_card_at(eod(date(2026, 12, 9)), 3, "working_days", CAL) == eod(date(2026, 12, 9)) - timedelta(
        seconds=86399 * 0.6
    )
    # one working day (sign for): the last fifth of it, on the deadline's day
    assert yellow_card_at(eod(date(2026, 12, 8)), 1, "working_days", CAL).date() == date(2026, 12, 8)
    assert yellow_card_at(at(2026, 10, 1, 12), 24, "hours", CAL) == at(2026, 10, 1, 12) - timedelta(hours=4.8)
    assert yellow_card_at(at(2026, 10, 1, 12), 24, "hours", CAL, share=0.25) == at(2026, 10, 1, 6)
    # the working days of the share only: a whole day left across a weekend is reached on Friday night
    assert yellow_card_at(eod(date(2026, 12, 7)), 5, "working_days", CAL) == eod(date(2026, 12, 4))


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 10, 15])
@pytest.mark.parametrize(
    "start",
    [
        at(2026, 12, 4, 23) + timedelta(minutes=59),
        at(2026, 12, 5, 10),
        at(2026, 9, 30, 18),
        at(2026, 2, 13, 23),
        at(2026, 12, 31, 12),
        at(2026, 12, 7, 0) + timedelta(seconds=1),
    ],
)
def test_a_working_day_limit_never_warns_near_its_start(limit, start):
    """Friday night, a Saturday, the eve of 国庆 and 春节, the year's last day, just after midnight."""
    deadline = CAL.add_working_days(start, limit).at
    warn = yellow_card_at(deadline, limit, "working_days", CAL)
    assert start + timedelta(hours=12) < warn < deadline
    assert CAL.working_time_before(deadline, limit * 0.2) <= warn  # within the last fifth


@pytest.mark.parametrize(
    "paused, resumed, deadline, expected",
    [
        # 3 working days left at the pause (Mon 11-23 → Thu 11-26); resumed Mon 11-30: three more.
        (at(2026, 11, 23), at(2026, 11, 30), eod(date(2026, 11, 26)), eod(date(2026, 12, 3))),
        # paused and resumed the same day: nothing changes
        (at(2026, 11, 23, 9), at(2026, 11, 23, 15), eod(date(2026, 11, 26)), eod(date(2026, 11, 26))),
        # paused across National Day: the holiday does not eat the remaining days
        (at(2026, 9, 29), at(2026, 10, 9), eod(date(2026, 9, 30)), eod(date(2026, 10, 10))),
        # paused on the deadline's own day: it ends at the end of the first working day after resuming
        (at(2026, 11, 26, 9), at(2026, 11, 28, 9), eod(date(2026, 11, 26)), eod(date(2026, 11, 30))),
        # the days left run over a make-up workday: 09-15, 09-16 left; from Thu 09-17: 09-18, Sun 09-20 (调休)
        (at(2026, 9, 14), at(2026, 9, 17), eod(date(2026, 9, 16)), eod(date(2026, 9, 20))),
        # a deadline extended to the make-up Sunday, paused the Friday before: one day left, Mid-Autumn 09-25..27
        (at(2026, 9, 18), at(2026, 9, 24), eod(date(2026, 9, 20)), eod(date(2026, 9, 28))),
        # paused on the deadline's day, resumed on the Saturday: the make-up Sunday is the first working day
        (at(2026, 9, 18, 9), at(2026, 9, 19, 9), eod(date(2026, 9, 18)), eod(date(2026, 9, 20))),
        # resumed on a make-up workday with days left: they count from the day after it
        (at(2026, 1, 29), at(2026, 2, 14), eod(date(2026, 1, 30)), eod(date(2026, 2, 24))),
    ],
)
def test_suspended_time_does_not_count(paused, resumed, deadline, expected):
    assert CAL.resume_deadline(deadline, paused, resumed).at == expected


def before_the_notice(year: int) -> WorkCalendar:
    """The calendar as it stood before the State Council's notice for ``year``: its weekdays count."""
    return WorkCalendar(
        days={d: w for d, w in CAL.days.items() if d.year != year}, known_years=CAL.known_years - {year}
    )


@pytest.mark.parametrize("year, day", ALL_MAKEUP)
def test_a_requested_make_up_day_is_the_deadline(year, day):
    day = date.fromisoformat(day)
    assert CAL.deadline_on(day, LOCAL_TZ) == Deadline(eod(day), False)


@pytest.mark.parametrize("year, name, day", ALL_HOLIDAYS)
def test_a_requested_holiday_moves_to_the_end_of_the_next_working_day(year, name, day):
    day = date.fromisoformat(day)
    result = CAL.deadline_on(day, LOCAL_TZ)
    moved_to = result.at.date()
    assert result.at == eod(moved_to) and not result.provisional and CAL.is_workday(moved_to)[0]
    assert all(not CAL.is_workday(day + timedelta(days=i))[0] for i in range((moved_to - day).days)), name


@pytest.mark.parametrize(
    "asked, moved_to",
    [
        (date(2026, 1, 4), date(2026, 1, 5)),  # Sunday; the notice: 元旦 01-01..01-03 off, 01-04 worked
        (date(2026, 9, 20), date(2026, 9, 21)),  # Sunday; the notice: worked for 国庆节
        (date(2026, 2, 14), date(2026, 2, 16)),  # Saturday; 春节 02-15..02-23 off: 02-14 worked
    ],
)
def test_a_day_off_that_the_notice_makes_a_make_up_workday(asked, moved_to):
    """Asked before the notice, a weekend day moves to Monday, provisionally. Once the notice is in, the
    deadline is the day asked for (computed from it, not from the Monday it was moved to)."""
    assert before_the_notice(2026).deadline_on(asked, LOCAL_TZ) == Deadline(eod(moved_to), True)
    assert CAL.deadline_on(asked, LOCAL_TZ) == Deadline(eod(asked), False)


def test_csv_and_errors():
    year = parse_csv("date,is_workday,note\n2027-02-06,1,春节调休上班\n2027-02-10,0,春节\n")
    assert year.year == 2027 and year.days[date(2027, 2, 6)] == (True, "春节调休上班")
    assert year.days[date(2027, 2, 10)] == (False, "春节") and year.days[date(2027, 2, 11)][0]
    assert parse_calendar_text("date,is_workday\n2027-01-01,0\n").year == 2027
    with pytest.raises(NoticeError):
        parse_csv("date,is_workday\n2027-01-01,maybe\n")
    with pytest.raises(NoticeError):
        parse_csv("date,is_workday\n2027-01-01,0\n2028-01-01,0\n")
    with pytest.raises(NoticeError):
        parse_notice("no holidays here", 2027)
