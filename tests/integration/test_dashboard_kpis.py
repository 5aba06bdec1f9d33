"""The rollup against a hand-counted week: returns, a redo, a suspension, an extension, a late ticket.

Every action goes through the real services at frozen moments (Asia/Shanghai wall clock below);
2026-03-02 is a Monday and the four days are working days.
"""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.core.clock import frozen_at, to_utc_naive
from hotline.dashboard import queries, services
from hotline.extensions import db
from hotline.sla.clock import decide_extension, request_extension
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import appeal

D = date(2026, 3, 2)


def at(day: int, hour: float) -> datetime:
    return to_utc_naive(datetime.combine(D + timedelta(days=day), datetime.min.time()) + timedelta(hours=hour))


def act(when, ticket, action, actor, **params):
    with frozen_at(when):
        return apply_transition(ticket, action, actor, **params)


def new(w, when, phone, **overrides):
    with frozen_at(when):
        return register_ticket(appeal(w, citizen_phone=phone, **overrides), w.operator, "register")


@pytest.fixture
def week(world):
    w = world
    # A: signed in 2 h, answered in 24 h, satisfied.
    a = new(w, at(0, 9), "13900000001")
    act(at(0, 9), a, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(0, 11), a, "sign", w.district_handler)
    act(at(1, 9), a, "reply", w.district_handler, body="已处理")
    act(at(1, 10), a, "approve_reply", w.dispatcher)
    act(at(1, 11), a, "rate_satisfied", w.operator, satisfaction="satisfied")
    # B: returned by the district, re-dispatched to the housing bureau, which signs 21 working hours later.
    b = new(w, at(0, 9), "13900000002")
    act(at(0, 9), b, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(0, 10), b, "request_return", w.district_handler, note="不属于本单位")
    act(at(0, 11), b, "approve_return", w.dispatcher)
    act(at(0, 12), b, "dispatch", w.dispatcher, lead_unit=w.department)
    act(at(1, 9), b, "sign", w.department_handler)
    # C: suspended for 24 h, answered (27 working h), unsatisfied → redo answered in 20 h, basically satisfied.
    c = new(w, at(0, 9), "13900000003")
    act(at(0, 9), c, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(0, 10), c, "sign", w.district_handler)
    act(at(0, 12), c, "suspend", w.supervisor, note="等待检测报告")
    act(at(1, 12), c, "resume", w.supervisor)
    act(at(2, 12), c, "reply", w.district_handler, body="已处理")
    act(at(2, 13), c, "approve_reply", w.dispatcher)
    act(at(2, 14), c, "rate_unsatisfied", w.operator, comment="没解决")
    act(at(3, 10), c, "reply", w.district_handler, body="已重新处理")
    act(at(3, 11), c, "approve_reply", w.dispatcher)
    act(at(3, 12), c, "rate_satisfied", w.operator, satisfaction="basically")
    # E: urgent (sign 1 h, answer 24 h); extended to Wednesday, answered after 30 h: on time.
    e = new(w, at(0, 9), "13900000004", urgency="urgent")
    act(at(0, 9), e, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(0, 9.5), e, "sign", w.district_handler)
    with frozen_at(at(0, 15)):
        req = request_extension(e, w.district_handler, at(2, 12), "需要协调供水公司")
    with frozen_at(at(0, 16)):
        decide_extension(req, w.supervisor, approve=True)
    act(at(1, 15), e, "reply", w.district_handler, body="已修复")
    act(at(1, 16), e, "approve_reply", w.dispatcher)
    # F: urgent, signed late (2 h) and answered late (30 h, no extension).
    f = new(w, at(0, 9), "13900000005", urgency="urgent")
    act(at(0, 9), f, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(0, 11), f, "sign", w.district_handler)
    act(at(1, 15), f, "reply", w.district_handler, body="已修复")
    act(at(1, 16), f, "approve_reply", w.dispatcher)
    # G: answered directly by the operator; H: A's caller again, same category: a repeat appeal.
    with frozen_at(at(0, 9)):
        register_ticket(
            appeal(w, appeal_type="consultation", citizen_phone="13900000006"),
            w.operator,
            "answer_directly",
            note="已解答",
        )
    new(w, at(0, 10), "13900000001")
    db.session.commit()
    for day in range(4):
        services.rollup_day(D + timedelta(days=day), final=True)
    db.session.commit()
    return w


def _row(rows, unit):
    return next(r for r in rows if r.unit.id == unit.id)


def test_district_figures_match_the_hand_count(week):
    rows, total = queries.unit_table(week.city, D, D + timedelta(days=3))
    d = _row(rows, week.district).figures
    assert (d["dispatched"], d["returned"]) == (5, 1)  # A B C E F; B returned
    assert d["return_rate"] == pytest.approx(0.2)
    assert (d["signed"], d["signed_on_time"]) == (4, 3)  # F signed after its 1 h limit
    assert d["sign_on_time_rate"] == pytest.approx(0.75)
    assert d["avg_sign_hours"] == pytest.approx((2 + 1 + 0.5 + 2) / 4)
    assert d["p90_sign_hours"] == 2
    assert (d["answered"], d["answered_on_time"]) == (5, 4)  # A, C twice, E (extended); F late
    assert d["answer_on_time_rate"] == pytest.approx(0.8)
    assert d["avg_answer_hours"] == pytest.approx((24 + 27 + 20 + 30 + 30) / 5)  # suspension excluded
    assert d["p90_answer_hours"] == 30
    assert d["redone"] == 1 and d["redo_rate"] == pytest.approx(0.2)
    assert (d["rated_satisfied"], d["rated_basically"], d["rated_unsatisfied"]) == (1, 1, 1)
    assert d["satisfaction_rate"] == pytest.approx((1 + 0.9) / 3)
    assert d["callback_rate"] == 1.0


def test_returned_work_counts_for_the_new_unit(week):
    rows, _ = queries.unit_table(week.city, D, D + timedelta(days=3))
    dep = _row(rows, week.department).figures
    assert (dep["dispatched"], dep["signed"], dep["signed_on_time"], dep["returned"]) == (1, 1, 1, 0)
    assert dep["avg_sign_hours"] == pytest.approx(21)


def test_intake_figures(week):
    rows, total = queries.unit_table(week.city, D, D + timedelta(days=3))
    hotline = _row(rows, week.hotline).figures
    assert (hotline["registered"], hotline["direct_answered"], hotline["repeat"]) == (7, 1, 1)
    assert total.figures["direct_answer_rate"] == pytest.approx(1 / 7)
    assert total.figures["repeat_rate"] == pytest.approx(1 / 7)
    intake = queries.intake_by_channel_day(week.city, D, D + timedelta(days=3))
    assert intake["series"] == {"phone": [7, 0, 0, 0]}


def test_figures_follow_the_day_facts_became_final(week):
    """Monday alone: the answers released on Tuesday and later are not in it."""
    rows, _ = queries.unit_table(week.city, D, D)
    d = _row(rows, week.district).figures
    assert (d["dispatched"], d["signed"], d["answered"], d["returned"]) == (5, 4, 0, 1)
    assert d["answer_on_time_rate"] is None


def test_rollup_is_idempotent_and_scoped(week):
    before = queries.unit_table(week.city, D, D + timedelta(days=3))[1].figures
    services.rollup_day(D + timedelta(days=1))
    db.session.commit()
    assert queries.unit_table(week.city, D, D + timedelta(days=3))[1].figures == before
    rows, _ = queries.unit_table(week.other_district, D, D + timedelta(days=3))
    assert rows == []


def test_satisfaction_weights_are_configurable(week, app):
    app.config["KPI_SATISFACTION_WEIGHTS"] = {"basically": 0.8}
    try:
        rows, _ = queries.unit_table(week.city, D, D + timedelta(days=3), services.weights())
        assert _row(rows, week.district).figures["satisfaction_rate"] == pytest.approx(1.8 / 3)
    finally:
        app.config.pop("KPI_SATISFACTION_WEIGHTS")


def test_snapshots_hold_the_same_figures_and_a_rollup_drops_them(week):
    """The rollup task's snapshots (what the pages read) equal the figures computed from the rollup rows;
    recounting a day removes them until the next refresh, so a page never shows figures older than its rows."""
    from hotline.dashboard.models import KpiSnapshot

    with frozen_at(at(3, 23)):
        services.refresh_snapshots()
        db.session.commit()
        w = services.weights()
        for name, start, end in services.preset_periods(D + timedelta(days=3)):
            key = queries.period_key(week.city.id, start, end, w)
            snapshot = db.session.get(KpiSnapshot, key)
            assert snapshot is not None, name
            db.session.expire_all()
            assert queries.period(week.city, start, end, w) == queries.compute_period(week.city, start, end, w)
        start, end = D, D + timedelta(days=3)
        payload = queries.period(week.city, start, end, w)
        assert payload["total"]["dispatched"] == 6 and payload["total"]["registered"] == 7
        district = next(r for r in payload["rows"] if r["unit"]["id"] == week.district.id)["figures"]
        assert district == _row(queries.unit_table(week.city, start, end, w)[0], week.district).figures
        assert [c["registered"] for c in payload["categories"]] == sorted(
            (c["registered"] for c in payload["categories"]), reverse=True
        )
        assert sum(c["registered"] for c in payload["categories"]) == 7
        month = queries.month_bounds(2026, 3)
        assert db.session.get(KpiSnapshot, queries.public_key(*month, w)) is not None
        assert queries.public_month(*month, w) == queries.public_unit_month(*month, w)
        services.rollup_day(D)
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(KpiSnapshot)).scalar() == 0
