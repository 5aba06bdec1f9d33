"""The assessment score's arithmetic (hotline/assessment/scoring.py), with no database."""

import pytest

from hotline.assessment import scoring
from hotline.dashboard.kpis import UnitCounts


def figures(**counts):
    orders = counts.pop("orders", 0)
    on_time = counts.pop("orders_on_time", 0)
    return scoring.UnitFigures(UnitCounts(**counts), orders, on_time)


def test_the_score_weighs_the_five_components():
    f = figures(
        dispatched=10,
        returned=1,
        answered=8,
        answered_on_time=6,
        redone=2,
        rated_satisfied=3,
        rated_basically=1,
        orders=2,
        orders_on_time=1,
    )
    r = scoring.rates(f)
    assert r == {
        "on_time_rate": 0.75,
        "return_rate": 0.1,
        "redo_rate": 0.25,
        "satisfaction_rate": pytest.approx((3 + 0.9) / 4),
        "supervision_rate": 0.5,
    }
    c = scoring.components(r)
    expected = 100 * (30 * 0.75 + 10 * 0.9 + 15 * 0.75 + 35 * 0.975 + 10 * 0.5) / 100
    assert scoring.score(c, scoring.DEFAULT_WEIGHTS) == round(expected, 2)


def test_missing_components_are_left_out_not_counted_as_zero():
    c = scoring.components(scoring.rates(figures(dispatched=2, answered=2, answered_on_time=2)))
    assert c["satisfaction"] is None and c["supervision"] is None
    assert scoring.score(c, scoring.DEFAULT_WEIGHTS) == 100.0  # on time, no returns, no redos
    assert scoring.score(scoring.components(scoring.rates(figures())), scoring.DEFAULT_WEIGHTS) is None


def test_deductions_take_points_off_and_never_below_zero():
    weights = {**scoring.DEFAULT_WEIGHTS, "case_points": 5}
    c = {"on_time": 0.5, "return": None, "redo": None, "satisfaction": None, "supervision": None}
    assert scoring.deduction(3, weights) == 15
    assert scoring.score(c, weights, scoring.deduction(3, weights)) == 35.0
    assert scoring.score(c, weights, scoring.deduction(30, weights)) == 0.0
    assert scoring.deduction(3, scoring.DEFAULT_WEIGHTS) == 0


def test_zero_weight_components_do_not_count():
    weights = {k: 0 for k in scoring.COMPONENTS} | {"satisfaction": 1}
    assert scoring.score({"on_time": 0.0, "satisfaction": 0.8, "return": 1, "redo": 1, "supervision": 0}, weights) == 80


def test_ranks_are_competition_ranks_and_skip_units_without_a_score():
    assert scoring.ranks([(1, 90.0), (2, 95.0), (3, 90.0), (4, None), (5, 80.0)]) == {2: 1, 1: 2, 3: 2, 5: 4}
    assert scoring.ranks([]) == {}


def test_minus_takes_a_tickets_share_out_never_below_zero():
    a = UnitCounts(dispatched=3, returned=1, answered=1)
    b = UnitCounts(dispatched=1, returned=1, answered=2)
    assert (lambda m: (m.dispatched, m.returned, m.answered))(scoring.minus(a, b)) == (2, 0, 0)


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"on_time": "x"}, {"on_time": "number"}),
        ({"redo": -1}, {"redo": "range"}),
        ({"redo": "nan"}, {"redo": "range"}),
        ({"case_points": 1001}, {"case_points": "range"}),
        ({k: 0 for k in scoring.COMPONENTS}, {"on_time": "sum"}),
        ({"on_time": "", "unknown": "x"}, {}),
    ],
)
def test_weights_are_checked(values, problems):
    assert scoring.check_weights(values)[1] == problems
