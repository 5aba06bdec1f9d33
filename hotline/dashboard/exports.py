"""KPI tables and ticket lists for export (written by hotline.core.spreadsheets). Phones are always masked."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from hotline.core.clock import to_local
from hotline.core.spreadsheets import CONTENT_TYPES, render  # noqa: F401 — the dashboard's exports use them
from hotline.tickets.labels import label
from hotline.tickets.services import mask_phone


def kpi_columns() -> list[tuple[str, str]]:
    """(figure key, column title) for the KPI table, in the order of the page."""
    return [
        ("dispatched", _("Dispatched")),
        ("signed", _("Signed")),
        ("sign_on_time_rate", _("Sign-on-time rate")),
        ("answered", _("Answered")),
        ("answer_on_time_rate", _("Answer-on-time rate")),
        ("returned", _("Returns")),
        ("return_rate", _("Return rate")),
        ("redone", _("Redos")),
        ("redo_rate", _("Redo rate")),
        ("callback_rate", _("Callback rate")),
        ("rated", _("Rated")),
        ("satisfaction_rate", _("Satisfaction rate")),
        ("registered", _("Registered")),
        ("direct_answer_rate", _("Direct-answer rate")),
        ("repeat", _("Repeat appeals")),
        ("repeat_rate", _("Repeat-appeal rate")),
        ("avg_sign_hours", _("Avg. time to sign (working h)")),
        ("p90_sign_hours", _("P90 time to sign (working h)")),
        ("avg_answer_hours", _("Avg. time to answer (working h)")),
        ("p90_answer_hours", _("P90 time to answer (working h)")),
    ]


def page_columns() -> list[tuple[str, str | None, str | None, str]]:
    """The page's compact KPI table: (figure, numerator, denominator, title); the export has every count."""
    return [
        ("dispatched", None, None, _("Dispatched")),
        ("sign_on_time_rate", "signed_on_time", "signed", _("Sign-on-time rate")),
        ("answer_on_time_rate", "answered_on_time", "answered", _("Answer-on-time rate")),
        ("return_rate", "returned", "dispatched", _("Return rate")),
        ("redo_rate", "redone", "answered", _("Redo rate")),
        ("callback_rate", "rated", None, _("Callback rate")),
        ("satisfaction_rate", None, "rated", _("Satisfaction rate")),
        ("direct_answer_rate", "direct_answered", "registered", _("Direct-answer rate")),
        ("repeat_rate", "repeat", "registered", _("Repeat-appeal rate")),
        ("avg_sign_hours", None, None, _("Avg. time to sign (working h)")),
        ("p90_sign_hours", None, None, _("P90 time to sign (working h)")),
        ("avg_answer_hours", None, None, _("Avg. time to answer (working h)")),
        ("p90_answer_hours", None, None, _("P90 time to answer (working h)")),
    ]


def kpi_table_rows(rows, total) -> tuple[list[str], list[list]]:
    columns = kpi_columns()
    header = [_("Unit")] + [title for _key, title in columns]
    body = [[row.unit.name] + [_cell(row.figures.get(key)) for key, _t in columns] for row in rows]
    body.append([_("Total")] + [_cell(total.figures.get(key)) for key, _t in columns])
    return header, body


def _cell(value):
    return round(value, 4) if isinstance(value, float) else value


def ticket_rows(tickets: Iterable) -> tuple[list[str], list[list]]:
    header = [
        _("Tracking number"),
        _("Registered"),
        _("Status"),
        _("Category"),
        _("District"),
        _("Lead unit"),
        _("Title"),
        _("Caller phone"),
        _("Answer deadline"),
        _("Warning"),
    ]
    body = []
    for t in tickets:
        body.append(
            [
                t.tracking_no,
                _local(t.created_at),
                str(label("status", t.status)),
                t.category.full_name if t.category else "",
                t.district.name if t.district else "",
                t.lead_unit.name if t.lead_unit else "",
                t.title,
                mask_phone(t.citizen_phone),
                _local(t.answer_deadline_at),
                str(label("warning", t.warning_level)),
            ]
        )
    return header, body


def _local(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
