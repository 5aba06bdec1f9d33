"""责任追究 pages under /accountability: the case lists (all, or one unit's), a case's page with the unit's
report and the supervisor's review, and opening a case from a ticket or its supervision order. The ticket
page's panel (``accountability_panel``) is loaded here for ``tickets.views``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accountability import queries, services
from hotline.accountability.forms import (
    MEASURE_LABELS,
    ORIGIN_LABELS,
    STATUS_LABELS,
    OpenCaseForm,
    ReportForm,
    ReviewForm,
)
from hotline.accountability.models import AccountabilityCase, CaseMeasure, CaseOrigin, CaseStatus
from hotline.accounts.decorators import permission_required
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import DomainError
from hotline.core.forms import add_errors, options
from hotline.core.params import coerce_id, query_id, query_page
from hotline.extensions import db
from hotline.permissions import (
    can_handle,
    can_read,
    can_read_case,
    can_see_accountability,
    can_supervise,
    holds_unit_accountable,
    reports_on_case,
)
from hotline.sla.models import SupervisionOrder
from hotline.tickets.models import Ticket
from hotline.tickets.services import get_ticket

bp = Blueprint("accountability", __name__, url_prefix="/accountability")

LABELS = {"origin": ORIGIN_LABELS, "measure": MEASURE_LABELS, "status": STATUS_LABELS}


def _case(case_id: int) -> AccountabilityCase:
    case = db.session.get(AccountabilityCase, case_id)
    if case is None or not can_read_case(current_user, case):
        abort(404)  # a case of another unit is not confirmed to exist
    return case


@bp.route("/")
@permission_required(can_see_accountability)
def index():
    status = request.args.get("status") or None
    measure = request.args.get("measure") or None
    filters = queries.CaseFilters(
        unit_id=query_id("unit"),
        status=status if status in {s.value for s in CaseStatus} else None,
        measure=measure if measure in {m.value for m in CaseMeasure} else None,
        overdue=request.args.get("overdue") == "1",
    )
    now = utcnow()
    page = db.paginate(queries.cases_query(current_user, filters, now), page=query_page(), per_page=50, error_out=False)
    units = queries.units_with_cases(current_user)
    return render_template(
        "accountability/index.html",
        page=page,
        filters=filters,
        units=units,
        unit=next((u for u in units if u.id == filters.unit_id), None),
        now=now,
        labels=LABELS,
    )


@bp.route("/<int:case_id>")
@permission_required(can_see_accountability)
def show(case_id: int):
    case = _case(case_id)
    return _render_case(case, ReportForm(formdata=None), ReviewForm(formdata=None))


def _render_case(case: AccountabilityCase, report_form: ReportForm, review_form: ReviewForm, status: int = 200):
    return (
        render_template(
            "accountability/show.html",
            case=case,
            now=utcnow(),
            labels=LABELS,
            report_form=report_form,
            review_form=review_form,
            may_report=can_handle(current_user) and reports_on_case(current_user, case),
            may_review=holds_unit_accountable(current_user, case.unit),
        ),
        status,
    )


@bp.route("/<int:case_id>/report", methods=["POST"])
@permission_required(can_handle)
def report(case_id: int):
    case = _case(case_id)
    form = ReportForm()
    if form.validate():
        try:
            services.submit_report(case, current_user, form.report.data or "")
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "report")
        else:
            flash(_("Rectification report submitted for review."), "success")
            return redirect(url_for(".show", case_id=case_id))
    return _render_case(_case(case_id), form, ReviewForm(formdata=None), 400)


@bp.route("/<int:case_id>/review", methods=["POST"])
@permission_required(can_supervise)
def review(case_id: int):
    case = _case(case_id)
    form = ReviewForm()
    if form.validate():
        try:
            services.review_case(
                case, current_user, form.decision.data == "accept", form.note.data, form.report_due.data
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "note")
        else:
            flash(_("Review recorded."), "success")
            return redirect(url_for(".show", case_id=case_id))
    return _render_case(_case(case_id), ReportForm(formdata=None), form, 400)


# --- opening a case ----------------------------------------------------------------------------------------------


def _visible_ticket(tracking_no: str) -> Ticket:
    try:
        ticket = get_ticket(tracking_no, whole=True)
    except DomainError:
        abort(404)
    if not can_read(current_user, ticket):
        abort(404)
    return ticket


def _origin_choices(ticket: Ticket) -> list[tuple[str, str]]:
    origins = services.ticket_origins(ticket)
    if ticket.supervision_orders:
        origins.append(CaseOrigin.SUPERVISION_ORDER.value)
    return [(o, str(ORIGIN_LABELS[o])) for o in origins]


def _order_id(raw: str | None) -> int | None:
    """The posted supervision order's id; a bad or out-of-range one is none (the service then refuses)."""
    try:
        return coerce_id(raw)
    except ValueError:
        return None


@bp.route("/tickets/<tracking_no>/new", methods=["GET", "POST"])
@permission_required(can_supervise)
def new(tracking_no: str):
    ticket = _visible_ticket(tracking_no)
    form = OpenCaseForm() if request.method == "POST" else OpenCaseForm(formdata=None)
    origins = _origin_choices(ticket)
    units = [u for u in services.ticket_units(ticket) if holds_unit_accountable(current_user, u)]
    form.origin.choices = options(origins)
    form.unit.choices = options([(u.id, u.name) for u in units])
    orders = sorted(ticket.supervision_orders, key=lambda o: o.id)
    if request.method == "GET":
        form.origin.data = request.args.get("origin") or (origins[0][0] if origins else None)
        asked = _order_id(request.args.get("order"))
        form.order.data = str(asked) if asked else (str(orders[-1].id) if orders else "")
        now = utcnow()
        report_due = services.default_report_due(now)
        form.report_due.data = to_local(report_due).date()
        form.review_due.data = to_local(services.default_review_due(report_due)).date()
    elif form.validate():
        order_id = _order_id(form.order.data)
        order = next((o for o in orders if o.id == order_id), None) if order_id else None
        if form.origin.data == CaseOrigin.SUPERVISION_ORDER.value and order is None and order_id:
            order = db.session.get(SupervisionOrder, order_id)  # not this ticket's: refused as such
        data = services.CaseInput(
            origin=form.origin.data or "",
            unit=next((u for u in units if u.id == form.unit.data), None)
            if form.origin.data != CaseOrigin.SUPERVISION_ORDER.value
            else None,
            findings=form.findings.data or "",
            measure=form.measure.data or "",
            ticket=ticket,
            order=order,
            official_name=form.official_name.data,
            report_due=form.report_due.data,
            review_due=form.review_due.data,
        )
        try:
            case = services.open_case(current_user, data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "origin")
            ticket = _visible_ticket(tracking_no)
        else:
            flash(
                _("Accountability case %(id)d opened; %(unit)s was told.", id=case.id, unit=case.unit.name), "success"
            )
            return redirect(url_for(".show", case_id=case.id))
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "accountability/new.html",
            ticket=ticket,
            form=form,
            orders=orders,
            eligible=bool(origins),
            labels=LABELS,
        ),
        status,
    )


# --- the ticket page's panel ----------------------------------------------------------------------------------------


def accountability_panel(ticket: Ticket) -> dict:
    """What the ticket page's accountability panel shows: the ticket's cases the reader may see, and for a
    supervisor whether the ticket qualifies (a red card, an unsatisfied redo, a supervision order)."""
    user = current_user
    if not user.is_authenticated or not can_see_accountability(user):
        return {"cases": [], "origins": [], "may_open": False}
    cases = [c for c in queries.cases_of_ticket(ticket.id) if can_read_case(user, c)]
    origins = _origin_choices(ticket) if can_supervise(user) else []
    return {
        "cases": cases,
        "origins": origins,
        "may_open": bool(origins) and any(holds_unit_accountable(user, u) for u in services.ticket_units(ticket)),
        "now": utcnow(),
        "labels": LABELS,
    }
