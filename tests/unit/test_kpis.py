"""The KPI formulas (hotline.dashboard.kpis) against hand-counted numbers. No database."""

from datetime import date, datetime, timedelta

import pytest

from hotline.dashboard import kpis
from hotline.dashboard.kpis import UnitCounts

WEEKDAYS = lambda d: d.weekday() < 5  # noqa: E731
MON = datetime(2026, 3, 2, 9, 0)  # a Monday


def test_working_hours_skip_non_working_days():
    assert kpis.working_hours(MON, MON + timedelta(hours=2), WEEKDAYS) == 2
    # Friday 09:00 → Monday 09:00: 15 h on Friday, the weekend does not count, 9 h on Monday.
    friday = datetime(2026, 3, 6, 9, 0)
    assert kpis.working_hours(friday, friday + timedelta(days=3), WEEKDAYS) == 24
    # A holiday on Tuesday (calendar says so) is skipped too.
    holiday = {date(2026, 3, 3)}
    assert kpis.working_hours(MON, MON + timedelta(days=2), lambda d: WEEKDAYS(d) and d not in holiday) == 24


def test_working_hours_exclude_suspension():
    # Answered 51 h after dispatch, 24 h of them suspended.
    pause = (MON + timedelta(hours=3), MON + timedelta(hours=27))
    assert kpis.working_hours(MON, MON + timedelta(hours=51), WEEKDAYS, [pause]) == 27
    # A pause outside the interval changes nothing; a pause over a weekend only removes working time.
    assert kpis.working_hours(MON, MON + timedelta(hours=5), WEEKDAYS, [(MON - timedelta(days=3), MON)]) == 5


def test_on_time_is_at_or_before_the_deadline():
    assert kpis.is_on_time(MON, MON)
    assert not kpis.is_on_time(MON + timedelta(seconds=1), MON)
    assert kpis.is_on_time(MON, None)
    assert not kpis.is_on_time(None, MON)


def test_satisfaction_rate_weights():
    # 满意 10, 基本满意 5, 不满意 5: (10 + 0.9 × 5) / 20 = 0.725
    assert kpis.satisfaction_rate(10, 5, 5) == pytest.approx(0.725)
    # Weights are configurable: count 基本满意 fully.
    assert kpis.satisfaction_rate(10, 5, 5, {"basically": 1.0}) == pytest.approx(0.75)
    assert kpis.satisfaction_rate(0, 0, 0) is None


def test_rates_from_counts():
    c = UnitCounts(
        registered=50,
        direct_answered=5,
        repeat=4,
        dispatched=20,
        returned=2,
        redone=1,
        rated_satisfied=6,
        rated_basically=2,
        rated_unsatisfied=2,
        not_reached=2,
    )
    for hours, on_time in [(1, True), (2, True), (30, False), (3, True)]:
        c.record_sign(hours, on_time)
    for hours, on_time in [(24, True), (60, False)]:
        c.record_answer(hours, on_time)
    r = kpis.rates(c)
    assert r["sign_on_time_rate"] == 0.75
    assert r["answer_on_time_rate"] == 0.5
    assert r["return_rate"] == 0.1  # returns / dispatches
    assert r["redo_rate"] == 0.5  # redos / answers released
    assert r["callback_rate"] == 10 / 12  # reached / (reached + not reached)
    assert r["satisfaction_rate"] == pytest.approx((6 + 0.9 * 2) / 10)
    assert r["direct_answer_rate"] == 0.1
    assert r["repeat_rate"] == 0.08
    assert r["avg_sign_hours"] == 9.0
    assert r["p90_sign_hours"] == 30  # nearest rank: the 4th of 4
    assert r["avg_answer_hours"] == 42.0
    assert r["p90_answer_hours"] == 60


def test_empty_denominators_are_none_not_zero():
    r = kpis.rates(UnitCounts())
    assert all(value is None for value in r.values())


def test_counts_add_up_with_histograms():
    a, b = UnitCounts(), UnitCounts()
    a.record_sign(0.4, True)
    b.record_sign(5.2, False)
    b.record_sign(100, False)
    total = UnitCounts.total([a, b])
    assert (total.signed, total.signed_on_time) == (3, 1)
    assert kpis.percentile(total.sign_hist, 0.5) == 5.5  # half-hour buckets under 8 h
    assert kpis.percentile(total.sign_hist, 0.9) == 100  # 4 h buckets from 48 h to 240 h


def test_percentile_resolution_is_an_hour_under_two_days():
    h = {}
    for hours in range(1, 11):
        kpis.add_to_histogram(h, hours * 4.0 - 0.2)  # 3.8, 7.8, …, 39.8
    assert kpis.percentile(h, 0.9) == 36  # 9th of 10 is 35.8 → bucket (35, 36]
    assert kpis.percentile({}, 0.9) is None


def test_place_key_drops_building_and_room():
    assert kpis.place_key("东湖区人民路12号阳光花园3栋2单元501室") == kpis.place_key("东湖区人民路12号阳光花园")
    assert kpis.place_key("东湖区人民路12号阳光花园") != kpis.place_key("东湖区人民路14号阳光花园")
    assert kpis.place_key("  ") is None


def test_hotspot_three_in_seven_days():
    t0 = datetime(2026, 3, 1, 8)
    rows = [
        (1, t0, "人民路12号阳光花园1栋", 7, 3),
        (2, t0 + timedelta(days=2), "人民路12号阳光花园2栋", 7, 3),
        (3, t0 + timedelta(days=6), "人民路12号阳光花园", 7, 3),
        (4, t0 + timedelta(days=1), "人民路12号阳光花园", 8, 3),  # another category
        (5, t0, "湖滨路1号", 7, 3),
        (6, t0 + timedelta(days=3), "湖滨路1号", 7, 3),
        (7, t0 + timedelta(days=8), "湖滨路1号", 7, 3),
    ]  # third one too late
    alerts = kpis.hotspot_alerts(rows)
    assert [(a.place, a.category_id, a.ticket_ids) for a in alerts] == [("人民路12号阳光花园", 7, (1, 2, 3))]
