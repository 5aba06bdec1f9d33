"""统一督办 pages: the calendar and the SLA policies (admins); supervision and requests on a ticket."""

from __future__ import annotations

import calendar as _stdcal
from datetime import datetime, time

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive, utcnow
from hotline.core.errors import DomainError
from hotline.core.ui import may_show_layout
from hotline.extensions import db
from hotline.permissions import can_administer, can_handle, can_read, can_supervise
from hotline.sla import admin, clock, deadlines, policy, supervision
from hotline.sla.forms import (
    CalendarDayForm,
    CalendarImportForm,
    DecisionForm,
    ExtensionForm,
    MessageForm,
    PolicyForm,
    SuspensionForm,
)
from hotline.sla.models import SlaPolicy, SupervisionOrder, Urging
from hotline.tickets.models import ExtensionRequest, SuspensionRequest

bp = Blueprint("sla", __name__)


# --- admin: the calendar -----------------------------------------------------------------------------------


@bp.route("/admin/calendar/")
@bp.route("/admin/calendar/<int:year>")
@permission_required(can_administer)
def calendar(year: int | None = None):
    year = year or to_local(utcnow()).year
    if not 2000 <= year <= 2100:
        abort(404)
    rows = {r.day: r for r in admin.calendar_year(year)}
    known = year in policy.current_calendar().known_years
    months = [(m, _stdcal.Calendar(firstweekday=0).monthdatescalendar(year, m)) for m in range(1, 13)]
    return render_template(
        "sla/calendar.html",
        year=year,
        rows=rows,
        known=known,
        months=months,
        day_form=CalendarDayForm(formdata=None),
        import_form=CalendarImportForm(formdata=None, year=year),
    )


@bp.route("/admin/calendar/day", methods=["POST"])
@permission_required(can_administer)
def calendar_day():
    form = CalendarDayForm()
    if not form.validate():
        flash(_("The form is not valid."), "danger")
        return redirect(url_for(".calendar"))
    admin.set_calendar_day(form.day.data, form.is_workday.data, form.note.data)
    from hotline.core.audit import record_audit

    record_audit(
        current_user,
        "calendar.day",
        form.day.data.isoformat(),
        {"is_workday": bool(form.is_workday.data), "note": form.note.data},
    )
    db.session.commit()
    flash(_("%(day)s saved.", day=form.day.data.isoformat()), "success")
    return redirect(url_for(".calendar", year=form.day.data.year))


@bp.route("/admin/calendar/import", methods=["POST"])
@permission_required(can_administer)
def calendar_import():
    from hotline.sla.notice import NoticeError, parse_calendar_text

    form = CalendarImportForm()
    text = form.text.data or ""
    if form.file.data:
        text = form.file.data.read().decode("utf-8-sig", errors="replace")
    if not form.validate() or not text.strip():
        flash(_("Paste the notice text or choose a file."), "danger")
        return redirect(url_for(".calendar", year=form.year.data or None))
    try:
        parsed = parse_calendar_text(text, form.year.data)
    except NoticeError as exc:
        flash(_("The text could not be read: %(error)s", error=str(exc)), "danger")
        return redirect(url_for(".calendar", year=form.year.data or None))
    result = admin.import_calendar_year(parsed)
    from hotline.core.audit import record_audit

    record_audit(
        current_user,
        "calendar.import",
        str(parsed.year),
        {"holidays": len(parsed.holidays), "makeup_days": len(parsed.makeup_days)},
    )
    db.session.commit()
    flash(
        _(
            "%(year)d imported: %(holidays)d holidays, %(makeup)d make-up workdays; %(n)d provisional tickets recomputed.",
            year=parsed.year,
            holidays=len(parsed.holidays),
            makeup=len(parsed.makeup_days),
            n=result["recomputed"],
        ),
        "success",
    )
    return redirect(url_for(".calendar", year=parsed.year))


# --- admin: SLA policies -----------------------------------------------------------------------------------


@bp.route("/admin/sla-policies", methods=["GET"])
@permission_required(can_administer)
def policies():
    return render_template(
        "sla/policies.html", policies=admin.all_policies(), form=PolicyForm(formdata=None), errors={}
    )


@bp.route("/admin/sla-policies/<int:policy_id>", methods=["POST"])
@permission_required(can_administer)
def policy_update(policy_id: int):
    policy = db.session.get(SlaPolicy, policy_id) or abort(404)
    form = PolicyForm()
    if not form.validate():
        flash(_("The form is not valid."), "danger")
        return redirect(url_for(".policies"))
    try:
        admin.update_policy(
            policy,
            sign_limit=float(form.sign_limit.data),
            sign_unit=form.sign_unit.data,
            answer_limit=float(form.answer_limit.data),
            answer_unit=form.answer_unit.data,
        )
        from hotline.core.audit import record_audit

        record_audit(
            current_user,
            "sla_policy.update",
            f"{policy.appeal_type}/{policy.urgency}",
            {
                "sign": f"{form.sign_limit.data} {form.sign_unit.data}",
                "answer": f"{form.answer_limit.data} {form.answer_unit.data}",
            },
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for(".policies"))
    flash(_("Policy saved. It applies to tickets dispatched from now on."), "success")
    return redirect(url_for(".policies"))


# --- supervision and requests on a ticket --------------------------------------------------------------------


def _ticket(tracking_no):
    from hotline.tickets.services import get_ticket

    ticket = get_ticket(tracking_no)
    if not can_read(current_user, ticket):
        abort(404)
    return ticket


def _run(tracking_no, call, done_message):
    try:
        call()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(done_message, "success")
    return redirect(url_for("tickets.detail", tracking_no=tracking_no) + "#supervision")


@bp.route("/tickets/<tracking_no>/urge", methods=["POST"])
@permission_required(can_supervise)
def urge(tracking_no):
    ticket, form = _ticket(tracking_no), MessageForm()
    return _run(
        tracking_no, lambda: supervision.urge_ticket(ticket, current_user, form.message.data or ""), _("Urging sent.")
    )


@bp.route("/tickets/<tracking_no>/supervise", methods=["POST"])
@permission_required(can_supervise)
def supervise(tracking_no):
    ticket, form = _ticket(tracking_no), MessageForm()
    return _run(
        tracking_no,
        lambda: supervision.issue_supervision_order(ticket, current_user, form.message.data or ""),
        _("Supervision order issued."),
    )


@bp.route("/tickets/<tracking_no>/supervision/<kind>/<int:record_id>/respond", methods=["POST"])
@permission_required(can_handle)
def respond(tracking_no, kind, record_id):
    model = {"order": SupervisionOrder, "urging": Urging}.get(kind) or abort(404)
    ticket = _ticket(tracking_no)
    record = db.session.get(model, record_id)
    if record is None or record.ticket_id != ticket.id:
        abort(404)
    form = MessageForm()
    return _run(
        tracking_no,
        lambda: supervision.respond_to_supervision(record, current_user, form.message.data or ""),
        _("Response recorded."),
    )


@bp.route("/tickets/<tracking_no>/extension", methods=["POST"])
@permission_required(can_handle)
def extension(tracking_no):
    ticket, form = _ticket(tracking_no), ExtensionForm()
    if not form.validate():
        flash(_("The form is not valid."), "danger")
        return redirect(url_for("tickets.detail", tracking_no=tracking_no) + "#supervision")
    deadline = to_utc_naive(datetime.combine(form.deadline.data, time(12), tzinfo=LOCAL_TZ))
    asked = to_local(deadlines.extension_deadline(form.deadline.data).at).strftime("%Y-%m-%d %H:%M")
    return _run(
        tracking_no,
        lambda: clock.request_extension(ticket, current_user, deadline, form.reason.data),
        _("Extension requested: if approved, the answer is due %(time)s.", time=asked),
    )


@bp.route("/tickets/<tracking_no>/suspension", methods=["POST"])
@permission_required(can_handle)
def suspension(tracking_no):
    ticket, form = _ticket(tracking_no), SuspensionForm()
    if not form.validate():
        flash(_("The form is not valid."), "danger")
        return redirect(url_for("tickets.detail", tracking_no=tracking_no) + "#supervision")
    resume_by = to_utc_naive(form.resume_by.data.replace(tzinfo=LOCAL_TZ)) if form.resume_by.data else None
    return _run(
        tracking_no,
        lambda: clock.request_suspension(ticket, current_user, form.reason.data, resume_by),
        _("Suspension requested."),
    )


@bp.route("/tickets/<tracking_no>/requests/<kind>/<int:request_id>/<decision>", methods=["POST"])
@permission_required(can_supervise)
def decide(tracking_no, kind, request_id, decision):
    model = {"extension": ExtensionRequest, "suspension": SuspensionRequest}.get(kind) or abort(404)
    if decision not in ("approve", "deny"):
        abort(404)
    ticket = _ticket(tracking_no)
    req = db.session.get(model, request_id)
    if req is None or req.ticket_id != ticket.id:
        abort(404)
    decide_fn = clock.decide_extension if kind == "extension" else clock.decide_suspension
    form = DecisionForm()
    return _run(
        tracking_no,
        lambda: decide_fn(req, current_user, decision == "approve", form.note.data or None),
        _("Decision recorded."),
    )


# --- the supervisor's queue of pending requests ----------------------------------------------------------------


@bp.route("/supervision/requests")
@permission_required(can_supervise)
def requests_queue():
    from hotline.sla.queries import pending_requests

    return render_template(
        "sla/requests.html", requests=pending_requests(current_user), form=DecisionForm(formdata=None)
    )


@bp.route("/supervision/requests/<kind>/<int:request_id>/<decision>", methods=["POST"])
@permission_required(can_supervise)
def decide_from_queue(kind, request_id, decision):
    """The queue's approve / reject: the same decision as on the ticket page, back to the queue."""
    model = {"extension": ExtensionRequest, "suspension": SuspensionRequest}.get(kind) or abort(404)
    if decision not in ("approve", "deny"):
        abort(404)
    req = db.session.get(model, request_id)
    if req is None or not can_read(current_user, supervision.record_ticket(req)):
        abort(404)
    decide_fn = clock.decide_extension if kind == "extension" else clock.decide_suspension
    form = DecisionForm()
    if not form.validate():
        flash(_("The form is not valid."), "danger")
        return redirect(url_for(".requests_queue"))
    tracking_no = supervision.record_ticket(req).tracking_no
    try:
        decide_fn(req, current_user, decision == "approve", (form.note.data or "").strip() or None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("Decision on ticket %(tracking_no)s recorded.", tracking_no=tracking_no), "success")
    return redirect(url_for(".requests_queue"))


@bp.before_app_request
def count_pending_requests():
    """The nav's count of requests waiting for the signed-in supervisor, read before the view into ``g`` (the
    layout shows it on every page; a template never queries). Not for the API, Open311 or static files."""
    if may_show_layout() and current_user.is_authenticated and can_supervise(current_user):
        from hotline.sla.queries import pending_count

        g.pending_requests = pending_count(current_user)


def supervision_panel(ticket):
    """What the ticket page's supervision panel and the handler's request forms show (the ticket's records and
    requests come loaded with it: ``get_ticket(whole=True)``)."""
    is_handler = current_user.is_authenticated and can_handle(current_user)
    today = to_local(utcnow()).date()
    return {
        "records": sorted(ticket.supervision_orders + ticket.urgings, key=lambda r: r.created_at),
        "extensions": ticket.extension_requests,
        "suspensions": ticket.suspension_requests,
        # Only handlers see the request forms (their labels come from the form classes).
        "extension_form": ExtensionForm(formdata=None) if is_handler else None,
        "suspension_form": SuspensionForm(formdata=None) if is_handler else None,
        "is_supervisor": current_user.is_authenticated and can_supervise(current_user),
        "is_handler": is_handler,
        # For the extension form's preview: today, and the days off of the coming year.
        "today": today.isoformat(),
        "days_off": [d.isoformat() for d in policy.current_calendar().days_off(today, 366)] if is_handler else [],
    }
