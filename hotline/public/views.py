"""Citizen pages. Anonymous, CSRF-protected, rate limited per client address."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.core.errors import DomainError, ValidationFailed
from hotline.extensions import db, limiter
from hotline.intake import services as intake
from hotline.intake.forms import CitizenAppealForm, RateForm, TrackForm
from hotline.tickets.services import CitizenActor, apply_transition, find_for_citizen
from hotline.tickets.validation import normalise_phone
from hotline.tickets.workflow import Channel, Status

bp = Blueprint("public", __name__)
# Tracking numbers this browser has proven it owns (number + phone), newest last. Only the numbers: the
# session cookie is signed, not encrypted, so the phone would be readable in it (issue 28.8).
_TRACKED = "tracked"
_TRACKED_KEEP = 10


@bp.route("/portal")
def home():
    return render_template("public/home.html")


@bp.route("/appeal", methods=["GET", "POST"])
@limiter.limit("20 per hour; 5 per minute", methods=["POST"])
def new_appeal():
    form = CitizenAppealForm()
    form.district_id.choices = [("", _("Choose a district…"))] + intake.district_choices()
    if form.validate_on_submit():
        try:
            photos = [intake.read_photo(f.filename, f.stream) for f in request.files.getlist("photos") if f.filename]
            ticket = intake.intake_appeal(intake.appeal_from_form(form, Channel.WEB.value),
                                          CitizenActor(normalise_phone(form.citizen_phone.data)), "submit",
                                          photos=photos)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            _attach_errors(form, exc)
        else:
            _remember(ticket.tracking_no)
            session["submitted_no"] = ticket.tracking_no
            return redirect(url_for(".submitted"))
    status = 400 if form.errors else 200
    return render_template("public/appeal.html", form=form, category_groups=intake.category_choices(),
                           map_tiles=current_app.config.get("MAP_TILE_URL"),
                           map_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
                           map_center=current_app.config.get("MAP_CENTER", (30.59, 114.30))), status


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
    if form.validate_on_submit():
        ticket = find_for_citizen(form.tracking_no.data.strip(), normalise_phone(form.phone.data))
        if ticket is not None:
            _remember(ticket.tracking_no)
            return redirect(url_for(".tracked", tracking_no=ticket.tracking_no))
        # One message for a wrong number and a wrong phone: nothing to learn by guessing.
        form.tracking_no.errors = [_("No appeal matches this tracking number and phone number.")]
    return render_template("public/track.html", form=form), 400 if form.errors else 200


@bp.route("/track/<tracking_no>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def tracked(tracking_no):
    ticket = find_for_citizen(tracking_no, None, check_phone=False) if tracking_no in _proven() else None
    if ticket is None:
        return redirect(url_for(".track"))
    phone = ticket.citizen_phone
    form = RateForm()
    if request.method == "POST" and form.validate_on_submit():
        action = "rate_unsatisfied" if form.satisfaction.data == "unsatisfied" else "rate_satisfied"
        params = {"comment": form.comment.data or None}
        if action == "rate_satisfied":
            params["satisfaction"] = form.satisfaction.data
        try:
            apply_transition(ticket, action, CitizenActor(phone), **params)
            db.session.commit()
            flash(_("Thank you for your rating."), "success")
            return redirect(url_for(".tracked", tracking_no=tracking_no))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            ticket = find_for_citizen(tracking_no, None, check_phone=False)
    timeline = [e for e in ticket.events if e.public]
    answers = [r for r in ticket.replies if r.state == "approved"]
    direct_answer = next((e.note for e in ticket.events if e.action == "answer_directly"), None)
    return render_template("public/tracked.html", ticket=ticket, timeline=timeline, answers=answers,
                           direct_answer=direct_answer, form=form,
                           can_rate=ticket.status == Status.PENDING_CALLBACK.value)


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
