"""Reading a year's working-day calendar from what admins have at hand. Pure: text in, days out.

Two inputs are understood:
- the State Council's yearly notice (国务院办公厅关于××年部分节假日安排的通知), pasted as text:
  each holiday line gives a range of days off (``1月28日（周二）至2月4日（周二）放假调休``) and the
  make-up workdays (``1月26日（周日）、2月8日（周六）上班``);
- a CSV with a header ``date,is_workday[,note]`` (``is_workday`` 1/0, true/false, 是/否, 上班/休息)
  listing only the days that differ from Monday–Friday, or every day.

Either way the result is every day of the year: Monday–Friday work, weekends rest, then the
notice's or the file's exceptions applied.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

_TRUE = {"1", "true", "yes", "y", "t", "是", "上班", "工作日", "workday"}
_FALSE = {"0", "false", "no", "n", "f", "否", "休息", "放假", "假日", "holiday", "off"}
_DATE = r"(?:(\d{1,2})月)?(\d{1,2})日"
_DATES = re.compile(_DATE)
_WORK_SENTENCE = re.compile(r"((?:\d{1,2}月\d{1,2}日[^、。，；,;]*?[、，,]?\s*)+)上班")
_SINGLE = re.compile(r"(\d{1,2})月(\d{1,2})日")
_NAME = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*([^：:]+)[：:]")
_YEAR = re.compile(r"(20\d\d)年")


class NoticeError(ValueError):
    """The text could not be read as a notice or a calendar CSV."""


@dataclass(frozen=True)
class CalendarYear:
    year: int
    days: dict[date, tuple[bool, str | None]]  # every day of the year: (is_workday, note)

    @property
    def holidays(self) -> list[date]:
        return sorted(d for d, (work, note) in self.days.items() if not work and note)

    @property
    def makeup_days(self) -> list[date]:
        return sorted(d for d, (work, _) in self.days.items() if work and d.weekday() >= 5)


def _plain_year(year: int) -> dict[date, tuple[bool, str | None]]:
    days: dict[date, tuple[bool, str | None]] = {}
    day = date(year, 1, 1)
    while day.year == year:
        days[day] = (day.weekday() < 5, None)
        day += timedelta(days=1)
    return days


def parse_notice(text: str, year: int | None = None) -> CalendarYear:
    """The year described by a State Council holiday notice."""
    if year is None:
        found = _YEAR.search(text)
        if not found:
            raise NoticeError("the notice names no year; give it explicitly")
        year = int(found.group(1))
    days = _plain_year(year)
    seen_holiday = False
    for line in re.split(r"[\n\r]+", text):
        name_match = _NAME.match(line)
        if not name_match:
            continue
        name = name_match.group(1).strip()
        body = line[name_match.end() :]
        for sentence in re.split(r"[。；;]", body):
            if "放假" not in sentence:
                continue
            head = sentence.split("放假")[0]
            dates: list[tuple[str, str]] = _DATES.findall(head)  # (month or "", day) per date
            if not dates or not dates[0][0]:
                continue
            start_month, start_day = dates[0]
            start = date(year, int(start_month), int(start_day))
            end = start
            if "至" in head and len(dates) > 1:
                end_month, end_day = dates[1]
                end = date(year, int(end_month or start_month), int(end_day))
            if end < start:
                raise NoticeError(f"{name}: the range ends before it starts")
            day = start
            while day <= end:
                days[day] = (False, name)
                day += timedelta(days=1)
                seen_holiday = True
        for sentence in _WORK_SENTENCE.finditer(body):
            for month, dd in _SINGLE.findall(sentence.group(1)):
                days[date(year, int(month), int(dd))] = (True, name)  # the page marks it a make-up workday
    if not seen_holiday:
        raise NoticeError("no holiday range (…至…放假) was found in the text")
    return CalendarYear(year, days)


def parse_csv(text: str) -> CalendarYear:
    """A year from ``date,is_workday[,note]`` rows (only the exceptions, or every day)."""
    rows = list(csv.DictReader(io.StringIO(text.strip())))
    if not rows or "date" not in rows[0] or "is_workday" not in rows[0]:
        raise NoticeError("the CSV needs a header with the columns date,is_workday[,note]")
    parsed: dict[date, tuple[bool, str | None]] = {}
    for number, row in enumerate(rows, start=2):
        try:
            day = date.fromisoformat(row["date"].strip())
        except (ValueError, AttributeError):
            raise NoticeError(f"line {number}: not a date: {row.get('date')!r}") from None
        flag = (row["is_workday"] or "").strip().lower()
        if flag not in _TRUE | _FALSE:
            raise NoticeError(f"line {number}: is_workday must be 1/0 (or true/false): {flag!r}")
        parsed[day] = (flag in _TRUE, (row.get("note") or "").strip() or None)
    years = {d.year for d in parsed}
    if len(years) != 1:
        raise NoticeError(f"one year per file, found {sorted(years)}")
    year = years.pop()
    days = _plain_year(year)
    days.update(parsed)
    return CalendarYear(year, days)


def parse_calendar_text(text: str, year: int | None = None) -> CalendarYear:
    """CSV when the first line is a CSV header, otherwise a pasted notice."""
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.replace(" ", "").lower().startswith("date,"):
        return parse_csv(text)
    return parse_notice(text, year)
