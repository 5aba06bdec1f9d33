"""``/api/v1/stats``: the dashboard's figures as JSON (a plain blueprint beside the flask-smorest API).

Authentication as the rest of the API: a staff bearer token (``hotline.api.auth``), or the signed-in
session for the dashboard's own pages. Supervisors and admins only, scoped to their subtrees.
Errors: ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from hotline.core.errors import ValidationFailed
from hotline.core.params import query_id
from hotline.core.replica import on_replica, read_source
from hotline.dashboard import queries, services
from hotline.dashboard.forms import PeriodError, parse_period
from hotline.extensions import db
from hotline.orgs.models import OrgUnit

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1/stats")


class StatsError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


@bp.errorhandler(StatsError)
def _stats_error(exc: StatsError):
    return jsonify({"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}}), exc.status


def _caller():
    from werkzeug.exceptions import Unauthorized

    from hotline.api.auth import current_caller

    try:
        caller = current_caller()
    except Unauthorized as exc:
        raise StatsError(
            401,
            "unauthorized",
            str((getattr(exc, "data", None) or {}).get("message") or _("Authentication is required.")),
        ) from None
    user = caller.user or (current_user if current_user.is_authenticated else None)
    if user is None:
        raise StatsError(401, "unauthorized", _("Authentication is required: a valid bearer token."))
    if not queries.dashboard_scopes(user):
        raise StatsError(403, "forbidden", _("Supervisors and administrators only."))
    return user


def _scope(user) -> OrgUnit:
    scopes = queries.dashboard_scopes(user)
    try:
        unit_id = query_id("unit")
    except ValidationFailed:
        unit_id = 0
    if unit_id is None:
        return scopes[0]
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    if unit is None:
        raise StatsError(422, "validation_failed", _("Please correct the marked fields."), {"unit": _("No such unit.")})
    if not any(s.contains(unit) for s in scopes):
        raise StatsError(403, "forbidden", _("This unit is outside your scope."))
    return unit


def _period():
    try:
        return parse_period(request.args)
    except PeriodError as exc:
        raise StatsError(
            422, "validation_failed", _("Please correct the marked fields."), {exc.field: str(exc)}
        ) from None


def _unit_json(unit: OrgUnit) -> dict:
    return queries.unit_json(unit)


@bp.get("/overview")
def overview():
    """Live open counts and warning boards, plus the period's totals, intake and breakdowns."""
    user = _caller()
    unit = _scope(user)
    start, end = _period()
    # The caller was checked on the primary; the figures may come from the replica.
    return on_replica(lambda: jsonify(_overview(unit, start, end)))


def _overview(unit: OrgUnit, start: date, end: date) -> dict:
    weights = services.weights()
    figures = queries.period(unit, start, end, weights)
    freshness = queries.rollup_freshness()
    boards = queries.board_counts(unit)
    return {
        "unit": _unit_json(unit),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rollup_at": freshness.isoformat() + "Z" if freshness else None,
        "open_by_status": queries.open_status_counts(unit),
        "overdue": boards["overdue"],
        "yellow_card": boards["yellow"],
        "totals": figures["total"],
        "intake": figures["intake"],
        "categories": figures["categories"],
        "districts": figures["districts"],
        "hotspots": [
            {k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v) for k, v in h.items() if k != "ticket_ids"}
            for h in queries.hotspot_alerts(unit)
        ],
        "satisfaction_weights": weights,
        "data_source": read_source(),
    }


@bp.get("/units")
def units():
    """The per-unit KPI table of the dashboard for ``from``–``to`` within ``unit``'s subtree."""
    user = _caller()
    unit = _scope(user)
    start, end = _period()
    return on_replica(lambda: _units(unit, start, end))


def _units(unit: OrgUnit, start: date, end: date) -> Response:
    figures = queries.period(unit, start, end, services.weights())
    return jsonify(
        {
            "unit": _unit_json(unit),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "units": [
                {"unit": {k: v for k, v in r["unit"].items() if k != "depth"}, **r["figures"]} for r in figures["rows"]
            ],
            "total": figures["total"],
            "data_source": read_source(),
        }
    )
