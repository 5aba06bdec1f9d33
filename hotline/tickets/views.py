"""Staff pages for tickets: the list limited to the user's units, and one ticket with its timeline."""

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from hotline.archive.queries import account_archived_appeals
from hotline.core.errors import DomainError, InvalidTransition
from hotline.core.params import query_page
from hotline.core.storage import storage
from hotline.cti.services import calls_of, recording_for
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_note, can_opine, can_read, can_see_contact
from hotline.tickets import handling, queries, services
from hotline.tickets.actions import ACTIONS, WEB_ACTIONS
from hotline.tickets.forms import ACTION_LABELS, ActionForm
from hotline.tickets.labels import STATUS, citizen_status, label
from hotline.tickets.models import Ticket
from hotline.tickets.queries import NewestFirstPage, account_appeals, callbacks_due, status_counts, visible_tickets
from hotline.tickets.queues import DESK_TABS
from hotline.tickets.workflow import Status

bp = Blueprint("tickets", __name__)

ARCHIVED_APPEALS_SHOWN = 50  # a citizen's archived appeals listed under the live ones, newest closed first


@bp.route("/")
def index():
    if not current_user.is_authenticated:  # the site's bare address: a citizen looking for the portal
        return redirect(url_for("public.home"))
    if current_user.is_citizen_only:
        status = request.args.get("status") if request.args.get("status") in STATUS else None
        appeals = []
        for t in account_appeals(current_user, status):
            followed = services.followed_ticket(t)
            appeals.append((t, followed, citizen_status(followed.status)))
        archived = account_archived_appeals(current_user, limit=ARCHIVED_APPEALS_SHOWN)
        archived_rows = [(a, citizen_status(followed_status)) for a, followed_status in archived.rows]
        return render_template(
            "tickets/mine.html", appeals=appeals, archived=archived_rows, archived_total=archived.total
        )
    status = request.args.get("status") or None
    if status and status not in STATUS:
        abort(400)
    page = query_page()
    query = visible_tickets(current_user)
    counts = status_counts(current_user)
    per_page = current_app.config["TICKETS_PER_PAGE"]
    merged_callbacks, callbacks = 0, None
    if status == Status.PENDING_CALLBACK.value:  # 回访: every caller, those of merged appeals too
        since = services.merged_callback_cutoff()
        query = query.where(callbacks_due(since))
        merged_callbacks = db.session.execute(
            select(func.count()).select_from(query.where(Ticket.status == Status.MERGED.value).subquery())
        ).scalar()
        rated = queries.rated_without_call_counts(current_user, since)
        callbacks = {"to_call": counts.get(status, 0) + merged_callbacks, "rated": rated, "rated_page": None}
        if request.args.get("show") == "rated":  # those the citizen rated: no call needed
            callbacks["rated_page"] = db.paginate(
                queries.rated_without_call(current_user, since),
                page=page,
                per_page=per_page,
                error_out=False,
                count=False,
            )
            callbacks["rated_page"].total = sum(rated.values())
    elif status:
        query = query.where(Ticket.status == status)
    tickets = sms = None
    if callbacks is None or callbacks["rated_page"] is None:
        # The per-status counts already give the total: no second COUNT over the same rows.
        tickets = NewestFirstPage(
            select=query, session=db.session(), page=page, per_page=per_page, error_out=False, count=False
        )
        tickets.total = (counts.get(status, 0) + merged_callbacks) if status else sum(counts.values())
        if callbacks is not None:  # the page's release SMS, in one statement
            sms = queries.release_sms_states([t.id for t in tickets.items])
    return render_template(
        "tickets/index.html",
        tickets=tickets,
        status=status,
        counts=counts,
        statuses=list(Status),
        merged_callbacks=merged_callbacks,
        callbacks=callbacks,
        sms=sms,
    )


def _load_visible(tracking_no: str, whole: bool = False) -> Ticket:
    ticket = services.get_ticket(tracking_no, whole=whole)
    if not can_read(current_user, ticket):
        abort(404)  # do not confirm that another unit's ticket exists
    return ticket


@bp.route("/tickets/<tracking_no>")
@login_required
def detail(tracking_no):
    if current_user.is_citizen_only:  # their own appeal: the citizen's page of it, without the hotline's internals
        ticket = _load_visible(tracking_no)
        return redirect(url_for("public.tracked", tracking_no=ticket.tracking_no))
    return _render_detail(_load_visible(tracking_no, whole=True))


def _render_detail(ticket: Ticket, error: str | None = None, revealed: dict | None = None):
    """The ticket page; ``ticket`` comes with what the page shows (``get_ticket(whole=True)``): the template
    only renders (tests/integration/test_render_queries.py)."""
    actions = services.available_actions(current_user, ticket)
    offered = {t.action for t in actions}  # only the forms on offer need their choices read
    dispatching = "dispatch" in offered
    # 回访 of a merged caller: the master's answer they are asked about.
    merged_answer = (
        next((r for r in reversed(services.followed_ticket(ticket).replies) if r.state == "approved"), None)
        if "rate_merged" in offered
        else None
    )
    # What the page shows beyond the ticket, loaded here so that the template only renders (the merge
    # candidates, the smart-dispatch suggestion and the policy hints, each only with its form).
    from hotline.accountability.views import accountability_panel
    from hotline.knowledge.services import hints_for_ticket
    from hotline.search.routing import suggest_route
    from hotline.search.services import duplicates_of
    from hotline.sla.views import supervision_panel

    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        actions=actions,
        duplicates=duplicates_of(ticket) if "merge" in offered else [],
        route=suggest_route(ticket) if dispatching else None,
        knowledge=hints_for_ticket(ticket) if "reply" in offered else [],
        sla_panel=supervision_panel(ticket),
        accountability=accountability_panel(ticket),
        labels=ACTION_LABELS,
        error=error,
        units=_dispatch_units() if dispatching else [],
        pass_down_units=services.pass_down_targets(current_user, ticket) if "pass_down" in offered else [],
        show_contact=can_see_contact(current_user),
        calls=calls_of(ticket) if can_see_contact(current_user) else [],
        revealed=revealed,
        suggested=handling.suggested_unit(ticket) if dispatching else None,
        canned=handling.canned_answers(ticket) if "reply" in offered else [],
        can_note=can_note(current_user, ticket),
        can_opine=can_opine(current_user, ticket),
        merged_answer=merged_answer,
    )


@bp.route("/tickets/<tracking_no>/actions/<action>", methods=["POST"])
@login_required
def act(tracking_no, action):
    ticket = _load_visible(tracking_no)
    form = ActionForm()
    if not form.validate():
        return _render_detail(_load_visible(tracking_no, whole=True), error=_("The form is not valid.")), 400
    entry = WEB_ACTIONS.get(action)
    try:
        if entry is None:
            raise InvalidTransition(_l("Unknown action: %(action)s", action=action))
        entry.run(
            ticket,
            current_user,
            {
                "note": form.note.data or None,
                "version": form.version.data,
                **{field: _FORM_VALUES[field](form) for field in entry.reads},
            },
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()  # nothing of the refused action is kept
        return _render_detail(services.get_ticket(tracking_no, whole=True), error=str(exc.message)), exc.status_code
    flash(_("Done: %(action)s.", action=label("action", action)), "success")
    back = {"review": "intake.review_queue", "dispatch": "queues.dispatch"}.get(request.form.get("next"))
    if back:  # back to the queue (and the desk's tab) the action was taken from
        tab = request.form.get("tab")
        return redirect(url_for(back, **({"tab": tab} if back == "queues.dispatch" and tab in DESK_TABS else {})))
    return redirect(url_for(".detail", tracking_no=tracking_no))


def _merge_master(form: ActionForm) -> Ticket | None:
    master = db.session.execute(select(Ticket).filter_by(tracking_no=form.master.data or "")).scalar()
    return master if master and can_read(current_user, master) else None


# How each field the action table names is read from the ticket page's form.
_FORM_VALUES: dict[str, Callable[[ActionForm], Any]] = {
    "body": lambda form: form.body.data,
    "lead_unit": lambda form: db.session.get(OrgUnit, form.lead_unit.data or 0),
    "assist_units": lambda form: [u for u in (db.session.get(OrgUnit, i) for i in form.assist_units.data or []) if u],
    "unit": lambda form: db.session.get(OrgUnit, form.unit.data or 0),
    "satisfaction": lambda form: form.satisfaction.data,
    "comment": lambda form: form.note.data or None,  # the page's one text box is the rating's comment
    "master": _merge_master,
}


@bp.route("/tickets/<tracking_no>/<any(note, opinion):kind>", methods=["POST"])
@login_required
def write(tracking_no, kind):
    """A progress note, or an assisting unit's opinion to the lead unit."""
    ticket = _load_visible(tracking_no)
    try:
        ACTIONS[kind].run(ticket, current_user, {"note": request.form.get("note")})
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_detail(services.get_ticket(tracking_no, whole=True), error=str(exc.message)), exc.status_code
    flash(_("Saved."), "success")
    return redirect(url_for(".detail", tracking_no=tracking_no))


@bp.route("/tickets/<tracking_no>/contact", methods=["POST"])
@login_required
def reveal(tracking_no):
    """Show the caller's full contact once; the reveal is recorded in the ticket's history."""
    ticket = _load_visible(tracking_no)
    try:
        contact = handling.reveal_contact(ticket, current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_detail(services.get_ticket(tracking_no, whole=True), error=str(exc.message)), exc.status_code
    return _render_detail(services.get_ticket(tracking_no, whole=True), revealed=contact)


@bp.route("/tickets/<tracking_no>/calls/<int:call_pk>/recording", methods=["POST"])
@login_required
def play_recording(tracking_no, call_pk):
    """Open a call's recording; who listened is recorded in the history and the audit log."""
    ticket = _load_visible(tracking_no)
    try:
        url = recording_for(ticket, call_pk, current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_detail(services.get_ticket(tracking_no, whole=True), error=str(exc.message)), exc.status_code
    return redirect(url)


@bp.route("/tickets/<tracking_no>/attachments/<int:attachment_id>")
@login_required
def attachment(tracking_no, attachment_id):
    """A photo of a ticket the user may see; served as a download-safe image, never executed."""
    ticket = _load_visible(tracking_no)
    item = next((a for a in ticket.attachments if a.id == attachment_id), None)
    if item is None:
        abort(404)
    response = Response(storage().read(item.storage_key), mimetype=item.content_type)
    response.headers["Content-Disposition"] = f"inline; filename=attachment-{item.id}{_suffix(item)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _suffix(item) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(item.content_type, "")


def _dispatch_units() -> list[OrgUnit]:
    kinds = [UnitKind.DEPARTMENT.value, UnitKind.DISTRICT.value, UnitKind.STREET.value, UnitKind.COMMUNITY.value]
    return list(
        db.session.execute(
            select(OrgUnit).where(OrgUnit.kind.in_(kinds), OrgUnit.active).order_by(OrgUnit.path)
        ).scalars()
    )
