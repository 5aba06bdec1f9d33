"""The operator console (话务员): register a call in under a minute, and the review queue for web/API appeals."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.errors import ValidationFailed
from hotline.core.forms import options
from hotline.cti.services import link_to_ticket, wrap_up_board
from hotline.extensions import db
from hotline.intake import services as intake
from hotline.intake.forms import OperatorCallForm
from hotline.permissions import can_register_calls
from hotline.sms import inbound
from hotline.tickets import queries
from hotline.tickets.models import Ticket
from hotline.tickets.validation import normalise_phone
from hotline.tickets.workflow import Channel, Status

bp = Blueprint("intake", __name__, url_prefix="/console")


@bp.route("/", methods=["GET", "POST"])
@permission_required(can_register_calls)
def register_call():
    form = OperatorCallForm()
    form.district_id.choices = options([("", _("Choose a district…"))] + intake.district_choices())
    if request.method == "GET" and (draft := inbound.open_draft(request.args.get("sms", type=int))):
        form.citizen_phone.data, form.body.data, form.sms_id.data = draft.phone, draft.text, str(draft.id)
    if form.validate_on_submit():
        outcome = form.outcome.data
        note = (form.note.data or "").strip() or None
        if outcome == "transfer_emergency" and note:
            note = f"[{form.emergency_line.data}] {note}"
        try:
            ticket = intake.intake_appeal(
                intake.appeal_from_form(form, Channel.PHONE.value), current_user, outcome, note=note
            )
            link_to_ticket(form.call_id.data, ticket, current_user)
            draft = inbound.open_draft(int(form.sms_id.data) if form.sms_id.data else None)
            if draft is not None:
                inbound.close_draft(draft, current_user, ticket)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            for name, message in exc.fields.items():
                field = form._fields.get(name) or form.body
                field.errors = list(field.errors) + [str(message)]
        else:
            flash(_("Registered %(no)s.", no=ticket.tracking_no), "success")
            return redirect(url_for(".register_call", last=ticket.tracking_no))
    return render_template(
        "intake/console.html",
        form=form,
        last=request.args.get("last"),
        category_groups=intake.category_choices(),
        board=wrap_up_board(current_user, current_app.config["CTI_WRAP_UP_HOURS"]),
    ), 400 if form.errors else 200


@bp.route("/caller")
@permission_required(can_register_calls)
def caller():
    """The caller's history, as a fragment the console shows beside the form (the duplicate hints are the
    assistant panel's, ``search.assist``: one list, each candidate once)."""
    phone = normalise_phone(request.args.get("phone"))
    return render_template("intake/_caller.html", phone=phone, history=intake.caller_history(phone))


REVIEW_SIZE = 20  # appeals shown at once, oldest first: the rest move up as these are handled


@bp.route("/review")
@permission_required(can_register_calls)
def review_queue():
    """Web and API appeals waiting for an operator to accept or refuse them, oldest first."""
    tickets = (
        db.session.execute(
            queries.with_list_columns(
                queries.in_status(current_user, Status.PENDING_REVIEW).order_by(Ticket.created_at).limit(REVIEW_SIZE)
            )
        )
        .scalars()
        .all()
    )
    total = queries.status_counts(current_user).get(Status.PENDING_REVIEW.value, 0)
    return render_template("intake/review.html", tickets=tickets, total=total, drafts=inbound.drafts(REVIEW_SIZE))


@bp.route("/sms/<int:sms_id>/dismiss", methods=["POST"])
@permission_required(can_register_calls)
def dismiss_sms(sms_id):
    """An SMS draft that is no appeal (a thank-you, a wrong number): off the review queue, audited."""
    draft = inbound.open_draft(sms_id)
    if draft is None:
        abort(404)
    inbound.close_draft(draft, current_user)
    db.session.commit()
    flash(_("The SMS was dismissed."), "success")
    return redirect(url_for(".review_queue"))
