"""Interview pages: the staff's list, scheduling and console (``/interviews``) and the portal's pages
(``/portal/interviews``: the list, a session's page with its question form, and ``live.json``, which the page's
script polls so answers appear without a reload)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from hotline.accounts.decorators import permission_required
from hotline.accounts.models import Role
from hotline.core.clock import to_utc_naive
from hotline.core.errors import DomainError, NotFound, ValidationFailed
from hotline.core.forms import Form, add_errors, options
from hotline.core.params import FIRST_MOMENT, LAST_MOMENT
from hotline.core.ui import unit_name
from hotline.extensions import db, limiter
from hotline.interviews import services
from hotline.interviews.forms import AnswerForm, QuestionForm, ScheduleForm, SummaryForm
from hotline.interviews.models import InterviewSession, InterviewStatus, QuestionStatus
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_run_interviews, can_schedule_interviews, manages_interview

bp = Blueprint("interviews", __name__, url_prefix="/interviews")
public_bp = Blueprint("interviews_public", __name__, url_prefix="/portal/interviews")

LIVE_POLL_SECONDS = 5


def _managed(interview_id: int, *, whole: bool = False) -> InterviewSession:
    """The session, if the user manages it; another unit's answers 404 (its existence is not confirmed)."""
    try:
        session = services.get_session(interview_id, whole=whole)
    except NotFound:
        abort(404)
    if not manages_interview(current_user, session):
        abort(404)
    return session


# --- staff ----------------------------------------------------------------------------------------------------


@bp.route("/")
@permission_required(can_run_interviews)
def index():
    return render_template("interviews/index.html", sessions=services.staff_sessions(current_user))


def _schedulable_units() -> list[OrgUnit]:
    units = db.session.execute(
        select(OrgUnit)
        .where(OrgUnit.active, OrgUnit.kind.not_in((UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value)))
        .order_by(OrgUnit.path)
    ).scalars()
    return [u for u in units if current_user.in_scope(u, Role.ADMIN, Role.SUPERVISOR)]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    utc = to_utc_naive(moment) if FIRST_MOMENT.year < moment.year < LAST_MOMENT.year else None
    return utc


@bp.route("/new", methods=["GET", "POST"])
@permission_required(can_schedule_interviews)
def new():
    form = ScheduleForm()
    form.unit_id.choices = options(
        [("", _("Choose the unit…"))]
        + [(u.id, "\u3000" * max(u.depth - 1, 0) + unit_name(u)) for u in _schedulable_units()]
    )
    if form.validate_on_submit():
        starts, ends = _utc(form.starts_at.data), _utc(form.ends_at.data)
        try:
            session = services.schedule_session(
                services.ScheduleInput(
                    kind=form.kind.data,
                    topic=form.topic.data,
                    unit_id=form.unit_id.data,
                    starts_at=starts,
                    ends_at=ends,
                    guests=form.guests.data,
                    description=form.description.data,
                ),
                current_user,
            )
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            add_errors(form, exc, "topic")
        else:
            flash(_("The session is scheduled and announced on the portal."), "success")
            return redirect(url_for(".show", interview_id=session.id))
    return render_template("interviews/new.html", form=form), 400 if form.errors else 200


def _render_show(session: InterviewSession, status: int = 200, **forms):
    by_status: dict[str, list] = {s.value: [] for s in QuestionStatus}
    for q in session.questions:
        by_status[q.status].append(q)
    return render_template(
        "interviews/show.html",
        session=session,
        by_status=by_status,
        answer_forms=forms.get("answer_forms", {}),
        summary_form=forms.get("summary_form") or SummaryForm(summary=session.summary),
        answer_form=AnswerForm(),
        shown_answers={item["id"]: item["answer"] for item in services.public_items(session)},
    ), status


@bp.route("/<int:interview_id>")
@permission_required(can_run_interviews)
def show(interview_id):
    return _render_show(_managed(interview_id, whole=True))


@bp.route("/<int:interview_id>/<any(start, end, publish):stage>", methods=["POST"])
@permission_required(can_run_interviews)
def act(interview_id, stage):
    session = _managed(interview_id)
    summary_form = SummaryForm()
    if not summary_form.validate_on_submit():
        return _render_show(session, 400, summary_form=summary_form)
    try:
        if stage == "start":
            services.start_session(session, current_user)
            message = _("The session is live: answers you publish appear on the portal within seconds.")
        elif stage == "end":
            already = session.status != InterviewStatus.LIVE.value
            tickets = services.end_session(session, current_user)
            if already and not tickets and session.status != InterviewStatus.LIVE.value:
                message = _("The session had already ended; no ticket was added.")
            else:
                message = ngettext(
                    "The session has ended. %(num)d unanswered question became a ticket for the unit.",
                    "The session has ended. %(num)d unanswered questions became tickets for the unit.",
                    len(tickets),
                )
        else:
            services.publish_transcript(session, current_user, summary_form.summary.data)
            message = _("The transcript is published on the portal.")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for(".show", interview_id=interview_id))
    flash(message, "success")
    return redirect(url_for(".show", interview_id=interview_id))


@bp.route(
    "/<int:interview_id>/questions/<int:interview_question_id>/<any(approve, reject, answer):decision>",
    methods=["POST"],
)
@permission_required(can_run_interviews)
def question(interview_id, interview_question_id, decision):
    session = _managed(interview_id)
    try:
        item = services.get_question(session, interview_question_id)
    except NotFound:
        abort(404)
    form = AnswerForm()
    try:
        if decision == "answer":
            if not form.validate_on_submit():
                return _render_show(session, 400, answer_forms={item.id: form})
            services.answer_question(item, current_user, form.answer.data)
            message = _("The answer is published.")
        else:
            if not Form().validate_on_submit():  # the CSRF token
                abort(400)
            services.moderate_question(item, current_user, decision)
            message = (
                _("The question is shown on the portal.") if decision == "approve" else _("The question is rejected.")
            )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if decision == "answer":
            add_errors(form, exc, "answer")
            return _render_show(session, exc.status_code, answer_forms={item.id: form})
        flash(str(exc.message), "danger")
    else:
        flash(message, "success")
    return redirect(url_for(".show", interview_id=interview_id, _anchor=f"q{interview_question_id}"))


# --- the portal -----------------------------------------------------------------------------------------------


@public_bp.route("")
def sessions():
    return render_template("interviews/public_list.html", sessions=services.public_sessions())


def _public(interview_id: int) -> InterviewSession:
    try:
        return services.get_session(interview_id)
    except NotFound:
        abort(404)


@public_bp.route("/<int:interview_id>", methods=["GET", "POST"])
@limiter.limit("20 per hour; 5 per minute", methods=["POST"])
def session_page(interview_id):
    session = _public(interview_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.submit_question(session, form.text.data, name=form.name.data, phone=form.phone.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "text")
        else:
            flash(_("Thank you. Your question is shown here once a moderator has approved it."), "success")
            return redirect(url_for(".session_page", interview_id=interview_id, _anchor="ask"))
    return render_template(
        "interviews/public_show.html",
        session=session,
        items=services.public_items(session),
        form=form,
        poll_seconds=LIVE_POLL_SECONDS,
    ), 400 if form.errors else 200


@public_bp.route("/<int:interview_id>/live.json")
def live(interview_id):
    response = jsonify(services.live_state(_public(interview_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
