"""Every KPI formula of the dashboard, the stats API and the public page, in one place. Pure.

No Flask, no database: counts in, rates out. The rollup (``hotline.dashboard.services``) turns the
day's events into ``UnitCounts``; everything that shows a figure adds those counts up and calls
``rates``. Definitions (DESIGN.md "KPIs", DOMAIN.md "Assessment"):

- each count belongs to the day its fact became final (a dispatch, a sign, an answer released after
  review, an approved return, a rating, a callback that reached nobody); a day's figures never
  change once the day is over, because the history they come from is append-only;
- sign-on-time rate      = signed on time / signed               (签收 by the assignment's sign deadline)
- answer-on-time rate    = answered on time / answered           (answer submitted by the deadline in force:
                                                                  extended, paused and redo deadlines included)
- return rate            = approved returns / dispatches          (退单率)
- redo rate              = redos / answers released               (重办率)
- callback rate          = callbacks reached / callbacks due      (回访率: a rating, or no one reached; of the
                                                                  master only: a merged caller's rating,
                                                                  ``rate_merged``, stays on their ticket and is
                                                                  not counted: one answer, one callback)
- satisfaction rate      = (w₁·满意 + w₂·基本满意 + w₃·不满意) / rated; weights 1, 0.9, 0 by default
- direct-answer rate     = answered directly / registered         (直接答复率)
- repeat-appeal rate     = repeat appeals / registered            (重复来电率: same phone and category
                                                                  within REPEAT_WINDOW_DAYS)
- time to sign / answer  = working hours (hours falling on working days, Asia/Shanghai), suspended time
                          excluded; average exact, p90 from a histogram (≤ 1 h resolution under 48 h).
A rate with an empty denominator is ``None`` (shown as "—"), never 0 %.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

DEFAULT_SATISFACTION_WEIGHTS = {"satisfied": 1.0, "basically": 0.9, "unsatisfied": 0.0}
REPEAT_WINDOW_DAYS = 30
HOTSPOT_MIN_COUNT = 3
HOTSPOT_WINDOW_DAYS = 7

# Histogram bucket upper edges in working hours: half hours to 8 h, hours to 48 h, 4 h to 240 h, days after.
BUCKET_EDGES: tuple[float, ...] = tuple(
    [x / 2 for x in range(1, 17)] + list(range(9, 49)) + list(range(52, 241, 4)) + list(range(264, 24 * 61, 24))
)


# --- working time -------------------------------------------------------------------------------------------


def working_hours(
    start: datetime, end: datetime, is_workday: Callable[[date], bool], pauses: Iterable[tuple[datetime, datetime]] = ()
) -> float:
    """Hours of [start, end) that fall on working days, minus the paused (suspended) hours.

    ``start``/``end`` and the pauses are local wall-clock datetimes (naive or aware, all alike).
    """
    total = _working_seconds(start, end, is_workday)
    for pause_start, pause_end in pauses:
        lo, hi = max(pause_start, start), min(pause_end, end)
        if hi > lo:
            total -= _working_seconds(lo, hi, is_workday)
    return max(total, 0.0) / 3600


def _working_seconds(start: datetime, end: datetime, is_workday: Callable[[date], bool]) -> float:
    if end <= start:
        return 0.0
    seconds, day = 0.0, start.date()
    while day <= end.date():
        if is_workday(day):
            day_start = datetime.combine(day, time.min, tzinfo=start.tzinfo)
            lo, hi = max(start, day_start), min(end, day_start + timedelta(days=1))
            if hi > lo:
                seconds += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return seconds


def is_on_time(done_at: datetime | None, deadline: datetime | None) -> bool:
    """Done at or before the deadline; work without a deadline cannot be late."""
    return done_at is not None and (deadline is None or done_at <= deadline)


# --- histograms for p90 -------------------------------------------------------------------------------------


def bucket_of(hours: float) -> int:
    return min(bisect_left(BUCKET_EDGES, hours), len(BUCKET_EDGES))


def add_to_histogram(histogram: dict, hours: float) -> None:
    key = str(bucket_of(hours))  # JSON keys are strings
    histogram[key] = histogram.get(key, 0) + 1


def merge_histograms(histograms: Iterable[Mapping | None]) -> dict:
    merged: Counter = Counter()
    for h in histograms:
        for key, count in (h or {}).items():
            merged[str(key)] += int(count)
    return dict(merged)


def percentile(histogram: Mapping, q: float) -> float | None:
    """The upper edge of the bucket holding the q-quantile (nearest-rank), or None when empty."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, -(-int(q * total * 1000) // 1000)), 0  # ceil(q·n) without float surprises
    for key in sorted(histogram, key=int):
        seen += histogram[key]
        if seen >= rank:
            index = int(key)
            return BUCKET_EDGES[index] if index < len(BUCKET_EDGES) else BUCKET_EDGES[-1]
    return BUCKET_EDGES[-1]


# --- the counts and the rates -------------------------------------------------------------------------------


@dataclass
class UnitCounts:
    """Additive counts for one unit (or a whole scope) over one day (or a period)."""

    registered: int = 0
    direct_answered: int = 0
    repeat: int = 0
    dispatched: int = 0
    returned: int = 0
    signed: int = 0
    signed_on_time: int = 0
    sign_hours: float = 0.0
    answered: int = 0
    answered_on_time: int = 0
    answer_hours: float = 0.0
    redone: int = 0
    rated_satisfied: int = 0
    rated_basically: int = 0
    rated_unsatisfied: int = 0
    not_reached: int = 0
    sign_hist: dict = field(default_factory=dict)
    answer_hist: dict = field(default_factory=dict)

    NUMBERS = (
        "registered",
        "direct_answered",
        "repeat",
        "dispatched",
        "returned",
        "signed",
        "signed_on_time",
        "sign_hours",
        "answered",
        "answered_on_time",
        "answer_hours",
        "redone",
        "rated_satisfied",
        "rated_basically",
        "rated_unsatisfied",
        "not_reached",
    )

    def __add__(self, other: UnitCounts) -> UnitCounts:
        result = UnitCounts(**{n: getattr(self, n) + getattr(other, n) for n in self.NUMBERS})
        result.sign_hist = merge_histograms([self.sign_hist, other.sign_hist])
        result.answer_hist = merge_histograms([self.answer_hist, other.answer_hist])
        return result

    @classmethod
    def total(cls, items: Iterable[UnitCounts]) -> UnitCounts:
        """The sum of ``items`` (the same additions, in the same order, as ``a + b + …``)."""
        items = list(items)
        result = cls(**{n: sum((getattr(item, n) for item in items), 0) for n in cls.NUMBERS})
        result.sign_hist = merge_histograms(item.sign_hist for item in items)
        result.answer_hist = merge_histograms(item.answer_hist for item in items)
        return result

    def record_sign(self, hours: float, on_time: bool) -> None:
        self.signed += 1
        self.signed_on_time += on_time
        self.sign_hours += hours
        add_to_histogram(self.sign_hist, hours)

    def record_answer(self, hours: float, on_time: bool) -> None:
        self.answered += 1
        self.answered_on_time += on_time
        self.answer_hours += hours
        add_to_histogram(self.answer_hist, hours)

    def record_rating(self, satisfaction: str) -> None:
        attr = {
            "satisfied": "rated_satisfied",
            "basically": "rated_basically",
            "unsatisfied": "rated_unsatisfied",
            "not_reached": "not_reached",
        }.get(satisfaction)
        if attr:
            setattr(self, attr, getattr(self, attr) + 1)

    @property
    def rated(self) -> int:
        return self.rated_satisfied + self.rated_basically + self.rated_unsatisfied

    def as_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def satisfaction_rate(
    satisfied: int, basically: int, unsatisfied: int, weights: Mapping[str, float] | None = None
) -> float | None:
    w = {**DEFAULT_SATISFACTION_WEIGHTS, **(weights or {})}
    rated = satisfied + basically + unsatisfied
    return ratio(w["satisfied"] * satisfied + w["basically"] * basically + w["unsatisfied"] * unsatisfied, rated)


KPI_NAMES = (
    "sign_on_time_rate",
    "answer_on_time_rate",
    "return_rate",
    "redo_rate",
    "callback_rate",
    "satisfaction_rate",
    "direct_answer_rate",
    "repeat_rate",
    "avg_sign_hours",
    "p90_sign_hours",
    "avg_answer_hours",
    "p90_answer_hours",
)


def rates(c: UnitCounts, weights: Mapping[str, float] | None = None) -> dict:
    """Every KPI of ``c``: rates as fractions (0–1) or None; times in working hours or None."""
    return {
        "sign_on_time_rate": ratio(c.signed_on_time, c.signed),
        "answer_on_time_rate": ratio(c.answered_on_time, c.answered),
        "return_rate": ratio(c.returned, c.dispatched),
        "redo_rate": ratio(c.redone, c.answered),
        "callback_rate": ratio(c.rated, c.rated + c.not_reached),
        "satisfaction_rate": satisfaction_rate(c.rated_satisfied, c.rated_basically, c.rated_unsatisfied, weights),
        "direct_answer_rate": ratio(c.direct_answered, c.registered),
        "repeat_rate": ratio(c.repeat, c.registered),
        "avg_sign_hours": ratio(c.sign_hours, c.signed),
        "p90_sign_hours": percentile(c.sign_hist, 0.9),
        "avg_answer_hours": ratio(c.answer_hours, c.answered),
        "p90_answer_hours": percentile(c.answer_hist, 0.9),
    }


def figures(c: UnitCounts, weights: Mapping[str, float] | None = None) -> dict:
    """Counts and rates together, as the API and the exports give them."""
    row = {n: getattr(c, n) for n in UnitCounts.NUMBERS}
    row["sign_hours"], row["answer_hours"] = round(c.sign_hours, 2), round(c.answer_hours, 2)
    row["rated"] = c.rated
    row.update(rates(c, weights))
    return row


# --- hotspots ----------------------------------------------------------------------------------------------

_DETAIL = re.compile(r"(\d+|[一二三四五六七八九十]+)\s*(栋|幢|号楼|单元|楼|层|室|户)|\s+|[,，。;；]")
_HOUSE_NUMBER = re.compile(r"\d+号")


def place_key(address: str | None) -> str | None:
    """The place of an address for hotspot matching: building, unit, floor and room dropped.

    "东湖区人民路12号阳光花园3栋2单元501室" and "东湖区人民路12号阳光花园" are the same place.
    """
    if not address:
        return None
    key = _DETAIL.sub("", address.strip())
    return key or None


@dataclass(frozen=True)
class HotspotAlert:
    place: str
    category_id: int
    district_id: int | None
    ticket_ids: tuple[int, ...]
    first_at: datetime
    last_at: datetime

    @property
    def count(self) -> int:
        return len(self.ticket_ids)


def hotspot_alerts(
    rows: Iterable[tuple], min_count: int = HOTSPOT_MIN_COUNT, window: timedelta = timedelta(days=HOTSPOT_WINDOW_DAYS)
) -> list[HotspotAlert]:
    """Same place and category ``min_count`` or more times within ``window`` (未诉先办).

    ``rows``: (ticket_id, created_at, address, category_id, district_id). For each place × category the
    densest window wins; alerts come most tickets first.
    """
    groups: dict[tuple, list] = defaultdict(list)
    for ticket_id, created_at, address, category_id, district_id in rows:
        key = place_key(address)
        if key and category_id:
            groups[(key, category_id)].append((created_at, ticket_id, district_id))
    alerts = []
    for (place, category_id), items in groups.items():
        if len(items) < min_count:
            continue
        items.sort()
        best, lo = None, 0
        for hi in range(len(items)):
            while items[hi][0] - items[lo][0] > window:
                lo += 1
            if hi - lo + 1 >= min_count and (best is None or hi - lo >= best[1] - best[0]):
                best = (lo, hi)
        if best:
            chosen = items[best[0] : best[1] + 1]
            alerts.append(
                HotspotAlert(
                    place, category_id, chosen[-1][2], tuple(i[1] for i in chosen), chosen[0][0], chosen[-1][0]
                )
            )
    alerts.sort(key=lambda a: (a.count, a.last_at), reverse=True)
    return alerts
