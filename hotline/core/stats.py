"""The minimum-sample rule for everything published: no rate on fewer than ``PUBLIC_MIN_ANSWERS`` answers.

Every rate on a public page, the public JSON and the evaluation results goes through ``published_rate``;
templates render ``None`` as "样本不足（n=3）" / "too few answers (n=3)" (macro ``public_rate`` in
templates/dashboard/_charts.html), never as "0.0 %"."""

from __future__ import annotations

from flask import current_app


def minimum_answers() -> int:
    return int(current_app.config.get("PUBLIC_MIN_ANSWERS", 10))


def enough_answers(n: int | None) -> bool:
    return (n or 0) >= max(1, minimum_answers())


def published_rate(value: float | None, n: int | None) -> float | None:
    """``value`` when it rests on at least the minimum number of answers ``n``, else None (not published)."""
    return value if value is not None and enough_answers(n) else None
