"""The assessment as a spreadsheet: one row per unit, levels in order, through ``core.spreadsheets``."""

from __future__ import annotations

from flask_babel import gettext as _

from hotline.assessment.models import AssessmentPeriod
from hotline.assessment.services import ScoreRow
from hotline.core.spreadsheets import to_xlsx
from hotline.tickets.labels import label


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def header() -> list[str]:
    return [
        _("Level"),
        _("Rank"),
        _("Unit"),
        _("Score"),
        _("Answer-on-time rate, %"),
        _("Return rate, %"),
        _("Redo rate, %"),
        _("Satisfaction rate, %"),
        _("Supervision orders answered on time, %"),
        _("Dispatched"),
        _("Returned"),
        _("Answered"),
        _("Answered on time"),
        _("Redone"),
        _("Rated"),
        _("Supervision orders"),
        _("Cases"),
        _("Points off"),
        _("Tickets excluded"),
    ]


def rows(score_rows: list[ScoreRow]) -> list[list[object]]:
    body: list[list[object]] = []
    for row in score_rows:
        c = row.figures.counts
        body.append(
            [
                str(label("unit_kind", row.level)),
                row.rank,
                row.unit.name,
                row.score,
                _pct(row.rates["on_time_rate"]),
                _pct(row.rates["return_rate"]),
                _pct(row.rates["redo_rate"]),
                _pct(row.rates["satisfaction_rate"]),
                _pct(row.rates["supervision_rate"]),
                c.dispatched,
                c.returned,
                c.answered,
                c.answered_on_time,
                c.redone,
                c.rated,
                row.figures.orders,
                row.figures.cases,
                row.deduction,
                row.figures.excluded,
            ]
        )
    return body


def workbook(period: AssessmentPeriod, score_rows: list[ScoreRow]) -> bytes:
    return to_xlsx(_("Assessment %(label)s", label=period.label), header(), rows(score_rows))
