"""The assessment score (考核得分), pure: rates in, a score and a rank out. No Flask, no database.

The rates come from ``hotline.dashboard.kpis`` (the dashboard's formulas, DOMAIN.md "Assessment"); this module
only weighs them. Five components, each a fraction 0–1 where higher is better:

- ``on_time``       answer-on-time rate                    (按时办结率)
- ``return``        1 − return rate (approved returns / dispatches)     (退单率)
- ``redo``          1 − redo rate (redos / answers released)            (重办率)
- ``satisfaction``  satisfaction rate ((满意 + 0.9 × 基本满意) / rated)     (满意率)
- ``supervision``   督办单 answered by their response deadline / issued   (督办响应率)

score = 100 × Σ wₖ·componentₖ / Σ wₖ over the components the unit has data for (a unit that received no
督办单 is scored on the other four), minus the deductions, never below 0. No component at all: no score
and no rank. The weights are the period's (set by an admin while it is open). ``case_points`` is the
points taken off per accountability case (问责) opened against the unit in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.dashboard import kpis

COMPONENTS = ("on_time", "return", "redo", "satisfaction", "supervision")
DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time": 30.0,
    "return": 10.0,
    "redo": 15.0,
    "satisfaction": 35.0,
    "supervision": 10.0,
    "case_points": 0.0,
}
WEIGHT_KEYS = tuple(DEFAULT_WEIGHTS)
MAX_WEIGHT = 1000.0


@dataclass
class UnitFigures:
    """What a unit's score is computed from: the dashboard's counts and its 督办单 of the period."""

    counts: kpis.UnitCounts
    orders: int = 0
    orders_on_time: int = 0
    cases: int = 0
    excluded: int = 0


def minus(a: kpis.UnitCounts, b: kpis.UnitCounts) -> kpis.UnitCounts:
    """``a`` without ``b``'s share (an excluded ticket's facts), every count at least 0; no histograms."""
    return kpis.UnitCounts(**{n: max(getattr(a, n) - getattr(b, n), 0) for n in kpis.UnitCounts.NUMBERS})


def _better(rate: float | None) -> float | None:
    return None if rate is None else 1.0 - rate


def rates(f: UnitFigures, satisfaction_weights: Mapping[str, float] | None = None) -> dict[str, float | None]:
    """The five rates as the dashboard defines them, plus the 督办 response rate."""
    r = kpis.rates(f.counts, satisfaction_weights)
    return {
        "on_time_rate": r["answer_on_time_rate"],
        "return_rate": r["return_rate"],
        "redo_rate": r["redo_rate"],
        "satisfaction_rate": r["satisfaction_rate"],
        "supervision_rate": kpis.ratio(f.orders_on_time, f.orders),
    }


def components(r: Mapping[str, float | None]) -> dict[str, float | None]:
    """``rates`` turned into the five components, higher is better."""
    return {
        "on_time": r["on_time_rate"],
        "return": _better(r["return_rate"]),
        "redo": _better(r["redo_rate"]),
        "satisfaction": r["satisfaction_rate"],
        "supervision": r["supervision_rate"],
    }


def score(values: Mapping[str, float | None], weights: Mapping[str, float], deduction: float = 0.0) -> float | None:
    """100 × the weighted mean of the components present, minus ``deduction`` points, floored at 0."""
    used = [(float(weights.get(k, 0) or 0), v) for k, v in values.items() if v is not None]
    used = [(w, v) for w, v in used if w > 0]
    total = sum(w for w, _v in used)
    if not total:
        return None
    return round(max(0.0, 100.0 * sum(w * v for w, v in used) / total - deduction), 2)


def deduction(cases: int, weights: Mapping[str, float]) -> float:
    return round(cases * float(weights.get("case_points", 0) or 0), 2)


def ranks(scores: Iterable[tuple[int, float | None]]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of (key, score) pairs, highest first; no score, no rank."""
    ordered = sorted(((s, k) for k, s in scores if s is not None), key=lambda p: -p[0])
    result: dict[int, int] = {}
    for i, (s, k) in enumerate(ordered):
        result[k] = result[ordered[i - 1][1]] if i and ordered[i - 1][0] == s else i + 1
    return result


def check_weights(values: Mapping[str, object]) -> tuple[dict[str, float], dict[str, str]]:
    """The weights as numbers, and a problem per bad key ("number", "range", "sum"); keys outside
    ``WEIGHT_KEYS`` are ignored, missing keys take the default."""
    weights, problems = dict(DEFAULT_WEIGHTS), {}
    for key in WEIGHT_KEYS:
        if key not in values or values[key] is None or values[key] == "":
            continue
        try:
            number = float(values[key])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems[key] = "number"
            continue
        if not 0 <= number <= MAX_WEIGHT or number != number:
            problems[key] = "range"
            continue
        weights[key] = number
    if not problems and not sum(weights[k] for k in COMPONENTS):
        problems["on_time"] = "sum"
    return weights, problems
