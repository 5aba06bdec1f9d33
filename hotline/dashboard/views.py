"""The supervisor dashboard, drill-down lists, exports and key livelihood projects (staff only)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.accounts.decorators import permission_required
from hotline.core.clock import utcnow
from hotline.core.errors import DomainError, NotFound
from hotline.core.forms import options
from hotline.core.i18n import current_language
from hotline.core.live import reused
from hotline.core.params import query_id, query_page
from hotline.core.replica import read_from_replica
from hotline.cti.stats import call_figures_for
from hotline.dashboard import exports, queries, services
from hotline.dashboard.forms import PeriodError, ProjectForm, TagForm, parse_period
from hotline.dashboard.models import LivelihoodProject
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.permissions import can_administer, can_see_dashboard, in_scope_query
from hotline.tickets.models import Ticket
from hotline.tickets.workflow import Channel

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
EXPORT_LIMIT = 50_000


def chosen_unit(user, unit_id: int | None) -> OrgUnit:
    """The unit asked for if the user watches it, else the user's first scope; 403 when outside."""
    scopes = queries.dashboard_scopes(user)
    if not scopes:
        abort(403)
    if unit_id is None:
        return scopes[0]
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not any(s.contains(unit) for s in scopes):
        abort(403)
    return unit


def _period_and_unit():
    try:
        start, end = parse_period(request.args)
    except PeriodError as exc:
        abort(400, description=str(exc))
    return start, end, chosen_unit(current_user, query_id("unit"))


@bp.route("/")
@permission_required(can_see_dashboard)
@read_from_replica
def index():
    start, end, unit = _period_and_unit()
    # The body is the same for everyone who asks the same question within a few seconds (a wall screen,
    # supervisors refreshing): a process reuses it for DASHBOARD_PAGE_SECONDS and says when it was made.
    key = (current_user.id, request.query_string, current_language())
    board = reused(
        "dashboard_page",
        key,
        current_app.config["DASHBOARD_PAGE_SECONDS"],
        lambda: Markup(render_template("dashboard/_board.html", **_board(unit, start, end))),
    )
    return render_template("dashboard/index.html", board=board)


def _board(unit, start, end) -> dict:
    weights = services.weights()
    figures = queries.period(unit, start, end, weights)
    intake, trend = figures["intake"], figures["trend"]
    categories, districts = figures["categories"], figures["districts"]
    charts = {
        "intake": {
            "kind": "line",
            "x": intake["days"],
            "series": [{"name": str(_label_channel(c)), "data": v} for c, v in intake["series"].items()],
        },
        "trend": {
            "kind": "line",
            "percent": True,
            "x": [d["day"] for d in trend],
            "series": [
                {"name": _("Sign-on-time rate"), "data": [_pct(d["sign_on_time_rate"]) for d in trend]},
                {"name": _("Answer-on-time rate"), "data": [_pct(d["answer_on_time_rate"]) for d in trend]},
                {"name": _("Satisfaction rate"), "data": [_pct(d["satisfaction_rate"]) for d in trend]},
            ],
        },
    }
    charts["categories"] = {
        "kind": "bar",
        "x": [c["name"] or _("Uncategorised") for c in categories],
        "series": [{"name": _("Appeals"), "data": [c["registered"] for c in categories]}],
    }
    charts["districts"] = {
        "kind": "bar",
        "x": [d["name"] or _("No district") for d in districts],
        "series": [{"name": _("Appeals"), "data": [d["registered"] for d in districts]}],
    }
    ratings = queries.rating_channels(unit, start, end)
    charts["ratings"] = {
        "kind": "bar",
        "stack": True,
        "horizontal": True,
        "x": [_label("rating_channel", c) for c in ratings],
        "series": [
            {"name": _label("satisfaction", s), "data": [ratings[c][s] for c in ratings]}
            for s in ("satisfied", "basically", "unsatisfied")
        ],
    }
    calls = call_figures_for(unit, start, end)
    if calls is not None:
        charts["calls"] = {
            "kind": "line",
            "x": [d[0].isoformat() for d in calls.days],
            "series": [
                {"name": _("Calls received"), "data": [d[1] for d in calls.days]},
                {"name": _("Calls answered"), "data": [d[2] for d in calls.days]},
                {"name": _("Calls abandoned"), "data": [d[3] for d in calls.days]},
            ],
        }
    columns = exports.page_columns()
    link = url_for("dashboard.index") + "?unit={}&" + urlencode({"from": start.isoformat(), "to": end.isoformat()})
    rows = [
        {"unit": r["unit"], "href": link.format(r["unit"]["id"]), "cells": kpi_cells(r["figures"], columns)}
        for r in figures["rows"]
    ]
    return dict(
        start=start,
        end=end,
        unit=unit,
        units=queries.selectable_units(current_user),
        rows=rows,
        total_cells=kpi_cells(figures["total"], columns),
        columns=columns,
        charts=charts,
        intake=intake,
        trend=trend,
        categories=categories,
        districts=districts,
        calls=calls,
        ratings=ratings,
        rating_table=[
            [name, *(ratings[c][s] for s in ("satisfied", "basically", "unsatisfied", "total"))]
            for name, c in zip(charts["ratings"]["x"], ratings, strict=True)
        ],
        status_counts=queries.open_status_counts(unit),
        boards={name: (_first_of_board(unit, name), n) for name, n in queries.board_counts(unit).items()},
        top_subcategories=figures["subcategories"],
        hotspots=queries.hotspot_alerts(unit),
        freshness=queries.rollup_freshness(),
        weights=weights,
        presets=_presets(),
        made_at=utcnow(),
    )


def _first_of_board(unit, board: str, limit: int = 10) -> list[Ticket]:
    """The board's first tickets that the user may open (the count beside it is the unit's figure)."""
    query = in_scope_query(queries.board_query(unit, board), current_user)
    return list(
        db.session.execute(
            query.options(joinedload(Ticket.lead_unit), joinedload(Ticket.category)).limit(limit)
        ).scalars()
    )


def kpi_cells(figures: dict, columns) -> list[tuple[str, str, str | None]]:
    """The KPI table's cells as text: (figure key, the figure, the small count line under a rate or None)."""
    cells = []
    for key, num, den, _title in columns:
        value, sub = figures[key], None
        if key.endswith("_rate"):
            text = "—" if value is None else "%.1f%%" % (value * 100)
            if den:
                sub = f"{figures[num]}/{figures[den]}" if num else str(figures[den])
            elif num:
                sub = str(figures[num])
        elif key.endswith("_hours"):
            text = "—" if value is None else f"{value:.1f}"
        else:
            text = str(value)
        cells.append((key, text, sub))
    return cells


def _label_channel(code):
    from hotline.tickets.labels import label

    return label("channel", code) if code in Channel._value2member_map_ else code


def _label(kind: str, code: str) -> str:
    from hotline.tickets.labels import label

    return label(kind, code)


def _pct(value):
    return None if value is None else round(value * 100, 1)


def _presets() -> list[tuple[str, date, date]]:
    names = {
        "last_7_days": _("Last 7 days"),
        "last_30_days": _("Last 30 days"),
        "this_month": _("This month"),
        "last_month": _("Last month"),
    }
    return [(names[key], lo, hi) for key, lo, hi in services.preset_periods(services.local_today())]


# --- drill-down lists ---------------------------------------------------------------------------------------


def _list_query(unit):
    """The drill-down list asked for, within what the user may read on the ticket page (issue 23.3)."""
    query, title = _drill_down(unit)
    return in_scope_query(query, current_user), title


def _drill_down(unit):
    board = request.args.get("board")
    if board in queries.BOARDS:
        return queries.board_query(unit, board), _("Red card: overdue") if board == "overdue" else _("Yellow card")
    hotspot, project_id = query_id("hotspot"), query_id("project")
    if hotspot:
        query = queries.hotspot_tickets_query(hotspot, unit)
        if query is None:
            abort(404)
        return query, _("Hotspot")
    if project_id:
        project = db.get_or_404(LivelihoodProject, project_id)
        return queries.project_tickets_query(project.id), project.name
    abort(400)


@bp.route("/tickets")
@permission_required(can_see_dashboard)
@read_from_replica
def tickets():
    unit = chosen_unit(current_user, query_id("unit"))
    query, title = _list_query(unit)
    page = db.paginate(
        query.options(joinedload(Ticket.lead_unit), joinedload(Ticket.category)),
        page=query_page(),
        per_page=50,
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("dashboard/tickets.html", page=page, title=title, unit=unit, args=args)


# --- exports ------------------------------------------------------------------------------------------------


def _download(kind: str, file_format: str, title: str, header, body, params: dict) -> Response:
    content = exports.render(file_format, title, header, body)
    services.record_export(current_user, kind, file_format, params, len(body))
    from hotline.core.audit import record_audit

    record_audit(
        current_user,
        "export.tickets" if kind == "tickets" else "export.kpi",
        f"{kind}.{file_format}",
        {"params": params, "rows": len(body)},
    )
    db.session.commit()
    filename = f"{kind}-{services.local_today().isoformat()}.{file_format}"
    return Response(
        content,
        mimetype=exports.CONTENT_TYPES[file_format],
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.route("/export/kpi.<any(xlsx, csv):file_format>")
@permission_required(can_see_dashboard)
@read_from_replica
def export_kpi(file_format):
    start, end, unit = _period_and_unit()
    rows, total = queries.unit_table(unit, start, end, services.weights())
    header, body = exports.kpi_table_rows(rows, total)
    return _download(
        "kpi_units",
        file_format,
        _("Unit KPIs"),
        header,
        body,
        {"from": start.isoformat(), "to": end.isoformat(), "unit": unit.id},
    )


@bp.route("/export/tickets.<any(xlsx, csv):file_format>")
@permission_required(can_see_dashboard)
@read_from_replica
def export_tickets(file_format):
    unit = chosen_unit(current_user, query_id("unit"))
    query, title = _list_query(unit)
    tickets = (
        db.session.execute(
            query.options(joinedload(Ticket.lead_unit), joinedload(Ticket.category), joinedload(Ticket.district)).limit(
                EXPORT_LIMIT
            )
        )
        .scalars()
        .all()
    )
    header, body = exports.ticket_rows(tickets)
    return _download("tickets", file_format, str(title), header, body, dict(request.args.items()))


# --- key livelihood projects --------------------------------------------------------------------------------


@bp.route("/projects")
@permission_required(can_see_dashboard)
def projects():
    items = queries.projects()
    return render_template(
        "dashboard/projects.html",
        projects=items,
        boards=queries.project_boards([p.id for p in items]),
        can_edit=can_administer(current_user),
    )


def _project_form(project=None) -> ProjectForm:
    form = ProjectForm(obj=project)
    form.lead_unit_id.choices = options([(0, "—")] + [(u.id, u.name) for u in queries.selectable_units(current_user)])
    return form


@bp.route("/projects/new", methods=["GET", "POST"])
@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@permission_required(can_administer)
def edit_project(project_id=None):
    project = db.get_or_404(LivelihoodProject, project_id) if project_id else None
    form = _project_form(project)
    if project is None and request.method == "GET":
        form.year.data = services.local_today().year
    if form.validate_on_submit():
        try:
            project = services.save_project(
                current_user,
                project=project,
                year=form.year.data,
                name=form.name.data,
                description=form.description.data,
                lead_unit_id=form.lead_unit_id.data or None,
                public=form.public.data,
                active=form.active.data,
            )
            from hotline.core.audit import record_audit

            record_audit(
                current_user,
                "project.update" if project_id else "project.create",
                project.name,
                {"id": project.id, "year": project.year, "public": project.public, "active": project.active},
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc.message))
        else:
            flash(_("Project saved."), "success")
            return redirect(url_for("dashboard.project", project_id=project.id))
    return render_template("dashboard/project_form.html", form=form, project=project)


@bp.route("/projects/<int:project_id>", methods=["GET", "POST"])
@permission_required(can_see_dashboard)
def project(project_id):
    item = db.get_or_404(LivelihoodProject, project_id)
    form = TagForm()
    if form.validate_on_submit():
        ticket = db.session.execute(
            select(Ticket).filter_by(tracking_no=form.tracking_no.data.strip())
        ).scalar_one_or_none()
        try:
            if ticket is None:
                raise NotFound(_("No ticket has that tracking number."))
            services.tag_ticket(None if form.untag.data else item, ticket, current_user)
        except NotFound as exc:
            db.session.rollback()
            form.tracking_no.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Ticket untagged.") if form.untag.data else _("Ticket tagged."), "success")
            return redirect(url_for("dashboard.project", project_id=item.id))
    recent = (
        db.session.execute(
            in_scope_query(queries.project_tickets_query(item.id), current_user)
            .options(joinedload(Ticket.lead_unit), joinedload(Ticket.category))
            .limit(20)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/project.html",
        project=item,
        board=queries.project_boards([item.id])[item.id],
        tickets=recent,
        form=form,
        can_edit=can_administer(current_user),
    )
