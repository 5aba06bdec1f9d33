"""Working-day arithmetic on the Chinese calendar. Pure: dates in, dates out.

Rules (民法典 arts. 201/203 as 12345 practice applies them):
- counting starts the day after receipt;
- only working days count, make-up workdays (调休) included, holidays excluded;
- a working-day deadline ends at the end of its last working day, Asia/Shanghai
  (23:59:59 by default; an installation may set an earlier end of office hours);
- hour limits count clock hours;
- suspended time does not count: a paused working-day deadline keeps the working
  days it had left, a paused hour deadline the hours.
Beyond the years the calendar knows, Monday–Friday count and any result that
depended on such a day is *provisional*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

END_OF_WORKING_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadline:
    at: datetime  # same tzinfo as the start it was computed from
    provisional: bool = False


@dataclass
class WorkCalendar:
    """Known days (``{date: is_workday}``) for ``known_years``; weekdays elsewhere."""

    days: Mapping[date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()
    day_ends: time = END_OF_WORKING_DAY

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that answer provisional)."""
        if day.year in self.known_years:
            return self.days.get(day, day.weekday() < 5), False
        return day.weekday() < 5, True

    def add_working_days(self, start: datetime, n: int) -> Deadline:
        """The end of the ``n``-th working day after ``start``'s date (``start`` local, aware)."""
        if n < 1:
            raise ValueError("a working-day limit is at least 1")
        day, counted, provisional = start.date(), 0, False
        while counted < n:
            day += timedelta(days=1)
            workday, unsure = self.is_workday(day)
            provisional |= unsure
            counted += workday
        return Deadline(self.end_of(day, start.tzinfo), provisional)

    def end_of(self, day: date, tzinfo: tzinfo | None) -> datetime:
        return datetime.combine(day, self.day_ends, tzinfo=tzinfo)

    def deadline_on(self, day: date, tzinfo: tzinfo | None) -> Deadline:
        """The end of ``day``, or of the next working day when it is a day off: an extension's day.

        Always computed from the day asked for, never from the day it was once moved to: a weekend
        day may become a make-up workday when its year's notice comes in.
        """
        day, provisional = self.next_workday_on_or_after(day)
        return Deadline(self.end_of(day, tzinfo), provisional)

    def days_off(self, start: date, days: int) -> list[date]:
        """The days off among ``days`` days from ``start`` (holidays and weekends, make-up workdays excluded)."""
        return [d for d in (start + timedelta(days=i) for i in range(days)) if not self.is_workday(d)[0]]

    def next_workday_on_or_after(self, day: date) -> tuple[date, bool]:
        provisional = False
        while True:
            workday, unsure = self.is_workday(day)
            provisional |= unsure
            if workday:
                return day, provisional
            day += timedelta(days=1)

    def previous_working_day_end(self, deadline: datetime) -> datetime:
        """The end of the working day before ``deadline``'s: when a yellow card is due."""
        day = deadline.date()
        while True:
            day -= timedelta(days=1)
            if self.is_workday(day)[0]:
                return self.end_of(day, deadline.tzinfo)

    def working_time_before(self, end: datetime, days: float) -> datetime:
        """The moment ``days`` working days of working time are left before ``end`` (a working day's time runs
        from midnight to ``day_ends``; days off have none). A whole day left is reached at the end of the
        working day before."""
        length = datetime.combine(date.min, self.day_ends) - datetime.combine(date.min, time())
        left, cursor = length * days, end
        for _ in range(3700):  # ten years of days off at most: a calendar with no working day gives up
            day = cursor.date()
            if self.is_workday(day)[0]:
                stop = min(cursor, self.end_of(day, cursor.tzinfo))
                available = stop - datetime.combine(day, time(), tzinfo=cursor.tzinfo)
                if left < available:
                    return stop - left
                left -= available
            cursor = self.end_of(day - timedelta(days=1), cursor.tzinfo)
        return cursor

    def resume_deadline(self, deadline: datetime, paused_at: datetime, resumed_at: datetime) -> Deadline:
        """A working-day ``deadline`` paused at ``paused_at`` and resumed at ``resumed_at`` (all local, aware).

        The working days left at the pause (the pause day itself counts as used) are counted again
        from the resume day, by the same rule as a new limit; with none left the deadline is the end
        of the resume day's working day.
        """
        if resumed_at <= paused_at:
            return Deadline(deadline, False)
        left = self.working_days_between(paused_at.date(), deadline.date())
        if deadline.date() <= paused_at.date():
            # Paused on or after the deadline's day: only the rest of that day was left.
            left = 0
        if left >= 1:
            return self.add_working_days(resumed_at, left)
        day, provisional = self.next_workday_on_or_after(resumed_at.date())
        return Deadline(max(self.end_of(day, resumed_at.tzinfo), deadline), provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many have passed since ``start``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)[0]
        return count


def add_hours(start: datetime, hours: float) -> Deadline:
    return Deadline(start + timedelta(hours=hours), False)


WARNING_SHARE = 0.2  # the yellow card comes in the last fifth of the limit …
WARNING_WORKING_DAYS = 1.0  # … and at most one working day before a working-day deadline (12345 practice)


def yellow_card_at(
    deadline: datetime,
    limit: float,
    unit: str,
    calendar: WorkCalendar,
    share: float = WARNING_SHARE,
    most_days: float = WARNING_WORKING_DAYS,
) -> datetime:
    """When the working time left before ``deadline`` falls to ``share`` of the limit.

    An hour limit warns ``share`` of its hours before; a working-day limit when ``share`` of its working
    days is left, at most ``most_days``: a ten-day limit one working day before, a one-day limit in its
    last fifth. A ticket is never warned as it is dispatched: the limit was counted from then."""
    if unit == "hours":
        return deadline - timedelta(hours=limit * share)
    return calendar.working_time_before(deadline, min(limit * share, most_days))


def from_chinesecalendar() -> WorkCalendar:
    """Every day of the years the ``chinesecalendar`` package knows (2004 to its last year)."""
    import chinese_calendar

    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    days, day = {}, date(first, 1, 1)
    while day.year <= last:
        days[day] = chinese_calendar.is_workday(day)
        day += timedelta(days=1)
    return WorkCalendar(days=days, known_years=frozenset(range(first, last + 1)))


def complete_years(days: Iterable[date]) -> frozenset[int]:
    """The years for which every day is present in ``days``."""
    counts: dict[int, int] = {}
    for day in days:
        counts[day.year] = counts.get(day.year, 0) + 1
    return frozenset(y for y, n in counts.items() if n == (date(y, 12, 31) - date(y, 1, 1)).days + 1)
