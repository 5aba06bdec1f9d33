"""Citizen pages. Anonymous, CSRF-protected, rate limited per client address."""

import hashlib
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.archive.queries import archived_for_citizen
from hotline.core.errors import DomainError, ValidationFailed
from hotline.core.forms import options
from hotline.evaluation.services import ticket_evaluation_path
from hotline.extensions import db, limiter
from hotline.intake import services as intake
from hotline.intake.forms import CitizenAppealForm, ForgotNumberForm, RateForm, TrackForm
from hotline.opinion.services import responses_for_tickets
from hotline.permissions import can_read, is_citizen
from hotline.public import services as citizen
from hotline.sms.inbound import ticket_for_rate_link
from hotline.tickets.labels import citizen_status
from hotline.tickets.services import (
    CitizenActor,
    apply_transition,
    find_for_citizen,
    followed_ticket,
    merged_callback_open,
)
from hotline.tickets.validation import normalise_phone, phone_is_valid
from hotline.tickets.workflow import Channel, RatingChannel, Status

bp = Blueprint("public", __name__)
# Tracking numbers this browser has proven it owns (number + phone), newest last. Only the numbers: the
# session cookie is signed, not encrypted, so the phone would be readable in it (issue 28.8).
_TRACKED = "tracked"
_TRACKED_KEEP = 10
_RATE_LINK = "rate_link"  # the tracking number this browser opened from the release SMS's link
# The master's own intake is its caller's, not the merged caller's: their page shows the master from dispatch on.
_MASTER_INTAKE = frozenset({"submit", "register", "accept"})


@bp.route("/portal")
def home():
    return render_template("public/home.html")


@bp.route("/appeal", methods=["GET", "POST"])
@limiter.limit("20 per hour; 5 per minute", methods=["POST"])
def new_appeal():
    form = CitizenAppealForm()
    form.district_id.choices = options([("", _("Choose a district…"))] + intake.district_choices())
    if form.validate_on_submit():
        try:
            photos = [intake.read_photo(f.filename, f.stream) for f in request.files.getlist("photos") if f.filename]
            ticket = intake.intake_appeal(
                intake.appeal_from_form(form, Channel.WEB.value),
                CitizenActor(normalise_phone(form.citizen_phone.data)),
                "submit",
                photos=photos,
            )
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            _attach_errors(form, exc)
        else:
            _remember(ticket.tracking_no)
            session["submitted_no"] = ticket.tracking_no
            return redirect(url_for(".submitted"))
    status = 400 if form.errors else 200
    return render_template(
        "public/appeal.html",
        form=form,
        category_groups=intake.category_choices(),
        map_tiles=current_app.config.get("MAP_TILE_URL"),
        map_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        map_center=current_app.config.get("MAP_CENTER", (30.59, 114.30)),
    ), status


@bp.route("/appeal/submitted")
def submitted():
    tracking_no = session.get("submitted_no")
    if not tracking_no:
        return redirect(url_for(".new_appeal"))
    return render_template("public/submitted.html", tracking_no=tracking_no)


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit("10 per minute; 60 per hour", methods=["POST"])
def track():
    form = TrackForm()
    if request.method == "GET" and re.fullmatch(r"\d{14}", request.args.get("no", "")):
        form.tracking_no.data = request.args["no"]  # from /track/<no> opened without proof: keep the number
    if form.validate_on_submit():
        number, phone = form.tracking_no.data.strip(), normalise_phone(form.phone.data)
        ticket = find_for_citizen(number, phone)
        if ticket is not None:
            _remember(ticket.tracking_no)
            return redirect(url_for(".tracked", tracking_no=ticket.tracking_no))
        archived = archived_for_citizen(number, phone)
        if archived is not None:  # closed years ago: its closing, not its file (docs/operations.md)
            return render_template("public/archived.html", archived=archived, shown=citizen_status(archived.status))
        # One message for a wrong number and a wrong phone: nothing to learn by guessing.
        form.tracking_no.errors = [_("No appeal matches this tracking number and phone number.")]
    return render_template("public/track.html", form=form), 400 if form.errors else 200


@bp.route("/track/<tracking_no>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def tracked(tracking_no):
    ticket = _followable(tracking_no)
    if ticket is None:
        return redirect(url_for(".track", no=tracking_no if re.fullmatch(r"\d{14}", tracking_no) else None))
    phone = ticket.citizen_phone
    form = RateForm()
    if request.method == "POST" and form.validate_on_submit():
        action = "rate_unsatisfied" if form.satisfaction.data == "unsatisfied" else "rate_satisfied"
        if ticket.status == Status.MERGED.value:  # a merged caller rates the master's answer on their own ticket
            action = "rate_merged"
        params = {"comment": form.comment.data or None}
        if action != "rate_unsatisfied":
            params["satisfaction"] = form.satisfaction.data
        try:
            via = RatingChannel.LINK if session.get(_RATE_LINK) == tracking_no else RatingChannel.WEB
            apply_transition(ticket, action, CitizenActor(phone, via=via.value), **params)
            db.session.commit()
            session.pop(_RATE_LINK, None)
            flash(_("Thank you for your rating."), "success")
            return redirect(url_for(".tracked", tracking_no=tracking_no))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            ticket = find_for_citizen(tracking_no, None, check_phone=False)
    # A merged appeal's page follows its master: the master's progress and answer, the caller's own text.
    followed = followed_ticket(ticket)
    timeline = [e for e in ticket.events if e.public]
    if followed is not ticket:
        timeline += [e for e in followed.events if e.public and e.action not in _MASTER_INTAKE]
        timeline.sort(key=lambda e: (e.created_at, e.id))
    answers = [r for r in followed.replies if r.state == "approved"]
    direct_answer = next((e.note for e in ticket.events if e.action == "answer_directly"), None)
    return render_template(
        "public/tracked.html",
        ticket=ticket,
        timeline=timeline,
        answers=answers,
        direct_answer=direct_answer,
        form=form,
        view=citizen.citizen_view(ticket, answers),
        master=followed if followed is not ticket else None,
        shown=citizen_status(ticket.status),
        master_shown=citizen_status(followed.status),
        can_rate=ticket.status == Status.PENDING_CALLBACK.value or merged_callback_open(ticket),
        evaluation_path=ticket_evaluation_path(ticket),
        opinion_responses=responses_for_tickets([ticket, followed]),
    )


@bp.route("/r/<token>")
@limiter.limit("30 per minute")
def rate_link(token):
    """The release SMS's link: opens the appeal's page to rate it, without the tracking number and phone. A
    GET rates nothing (SMS apps and scanners open links first); the page's form does."""
    ticket = ticket_for_rate_link(token)
    if ticket is None:
        flash(
            _(
                "This rating link has expired or its answer was already rated. Look your appeal up with its "
                "tracking number and phone number."
            ),
            "warning",
        )
        return redirect(url_for(".track"))
    _remember(ticket.tracking_no)
    session[_RATE_LINK] = ticket.tracking_no
    return redirect(url_for(".tracked", tracking_no=ticket.tracking_no))


@bp.route("/track/<tracking_no>/photos/<int:attachment_id>")
def tracked_photo(tracking_no, attachment_id):
    """A photo the citizen sent with an appeal this browser proved; never another's, never a staff upload."""
    ticket = _followable(tracking_no)
    photo = citizen.citizen_photo(ticket, attachment_id) if ticket is not None else None
    if photo is None:
        abort(404)
    from hotline.core.storage import storage

    response = Response(storage().read(photo.storage_key), mimetype=photo.content_type)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _forgot_phone_key() -> str:
    # A digest, not the number: the limiter's counters (Redis) hold no phone numbers.
    digest = hashlib.sha256(normalise_phone(request.form.get("phone"))[:20].encode()).hexdigest()[:32]
    return "forgot-phone:" + digest


@bp.route("/track/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"], scope="forgot-address")
@limiter.limit("3 per day", methods=["POST"], key_func=_forgot_phone_key, scope="forgot-phone")
def forgot_number():
    """忘记工单编号: the recent tracking numbers of a phone go to that phone by SMS. The page answers the same
    whether or not the phone has appeals, so it tells nothing about anyone's appeals."""
    form = ForgotNumberForm()
    if form.validate_on_submit():
        if not phone_is_valid(form.phone.data):
            form.phone.errors = [_("Enter a mainland mobile number (11 digits) or a landline with area code.")]
        else:
            citizen.send_tracking_numbers(normalise_phone(form.phone.data))
            db.session.commit()
            return render_template("public/forgot.html", form=None, sent=True)
    return render_template("public/forgot.html", form=form, sent=False), 400 if form.errors else 200


def _followable(tracking_no: str):
    """The appeal, if this browser proved it (number + phone) or the signed-in citizen account owns it."""
    if tracking_no in _proven():
        return find_for_citizen(tracking_no, None, check_phone=False)
    if current_user.is_authenticated and is_citizen(current_user):
        ticket = find_for_citizen(tracking_no, None, check_phone=False)
        if ticket is not None and can_read(current_user, ticket):
            return ticket
    return None


def _proven() -> list[str]:
    # A cookie from before issue 28.8 holds {number: phone}: its numbers count, and the next _remember
    # rewrites it without the phones.
    return [str(n) for n in session.get(_TRACKED) or []]


def _remember(tracking_no: str) -> None:
    numbers = [n for n in _proven() if n != tracking_no] + [tracking_no]
    session[_TRACKED] = numbers[-_TRACKED_KEEP:]  # a few recent ones, not a growing cookie


def _attach_errors(form, exc: ValidationFailed) -> None:
    for name, message in exc.fields.items():
        field = form._fields.get(name) or form._fields.get("body")
        field.errors = list(field.errors) + [str(message)]
