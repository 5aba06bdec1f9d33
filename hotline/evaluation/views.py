"""社会监督评议 pages: the admins' questionnaires and results (/evaluation/admin), the respondents' page for
citizens and evaluators (/evaluation/), the ticket's link (/e/<token>) and the published results as JSON."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.errors import DomainError
from hotline.core.forms import add_errors
from hotline.core.stats import minimum_answers
from hotline.evaluation import services
from hotline.evaluation.forms import KIND_LABELS, ActionForm, QuestionForm, QuestionnaireForm, answer_form
from hotline.evaluation.models import Question, Questionnaire
from hotline.extensions import db, limiter
from hotline.orgs.models import OrgUnit
from hotline.permissions import can_administer, can_evaluate

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")
public_bp = Blueprint("evaluation_public", __name__)


def _questionnaire(questionnaire_id: int) -> Questionnaire:
    questionnaire = db.session.get(Questionnaire, questionnaire_id)
    if questionnaire is None:
        abort(404)
    return questionnaire


def _question(questionnaire: Questionnaire, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.questionnaire_id != questionnaire.id:
        abort(404)
    return question


def _refused(exc: DomainError) -> None:
    flash(str(exc.message), "danger")


# --- the admins' questionnaires ------------------------------------------------------------------------------


@bp.route("/admin", methods=["GET", "POST"])
@permission_required(can_administer)
def questionnaires():
    form = QuestionnaireForm()
    if form.validate_on_submit():
        try:
            questionnaire = services.create_questionnaire(
                current_user, form.year.data, form.title.data, form.opens_on.data, form.closes_on.data
            )
        except DomainError as exc:
            add_errors(form, exc, "title")
        else:
            db.session.commit()
            flash(_("Questionnaire created: add its questions."), "success")
            return redirect(url_for(".edit", questionnaire_id=questionnaire.id))
    rows = db.session.execute(
        db.select(Questionnaire).order_by(Questionnaire.year.desc(), Questionnaire.id.desc())
    ).scalars()
    return render_template("evaluation/questionnaires.html", form=form, questionnaires=list(rows))


@bp.route("/admin/<int:questionnaire_id>", methods=["GET", "POST"])
@permission_required(can_administer)
def edit(questionnaire_id):
    questionnaire = _questionnaire(questionnaire_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(current_user, questionnaire, form.text.data, form.kind.data)
        except DomainError as exc:
            add_errors(form, exc, "text")
        else:
            db.session.commit()
            return redirect(url_for(".edit", questionnaire_id=questionnaire.id))
    return render_template(
        "evaluation/edit.html", questionnaire=questionnaire, form=form, action=ActionForm(), kinds=KIND_LABELS
    )


@bp.route("/admin/<int:questionnaire_id>/questions/<int:question_id>/<any(up,down,remove):change>", methods=["POST"])
@permission_required(can_administer)
def change_question(questionnaire_id, question_id, change):
    questionnaire = _questionnaire(questionnaire_id)
    question = _question(questionnaire, question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if change == "remove":
            services.remove_question(current_user, question)
        else:
            services.move_question(current_user, question, -1 if change == "up" else 1)
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
    else:
        db.session.commit()
    return redirect(url_for(".edit", questionnaire_id=questionnaire.id))


@bp.route("/admin/<int:questionnaire_id>/<any(open,close,publish,unpublish):step>", methods=["POST"])
@permission_required(can_administer)
def change_status(questionnaire_id, step):
    questionnaire = _questionnaire(questionnaire_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.change_status(current_user, questionnaire, step)
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
    else:
        db.session.commit()
        flash(_("Questionnaire updated."), "success")
    return redirect(url_for(".edit", questionnaire_id=questionnaire.id))


@bp.route("/admin/<int:questionnaire_id>/invite", methods=["POST"])
@permission_required(can_administer)
def invite(questionnaire_id):
    questionnaire = _questionnaire(questionnaire_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    try:
        queued = services.invite_by_sms(current_user, questionnaire, base)
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
    else:
        db.session.commit()
        flash(_("%(n)d SMS invitations queued.", n=queued), "success")
    return redirect(url_for(".edit", questionnaire_id=questionnaire.id))


@bp.route("/admin/<int:questionnaire_id>/results")
@permission_required(can_administer)
def results(questionnaire_id):
    questionnaire = _questionnaire(questionnaire_id)
    return render_template(
        "evaluation/results.html",
        questionnaire=questionnaire,
        units=services.results(questionnaire),
        min_answers=minimum_answers(),
    )


# --- respondents: signed-in citizens and evaluators -----------------------------------------------------------


@bp.route("/")
@permission_required(can_evaluate)
def mine():
    respondent = services.respondent_for(current_user)
    units = services.rateable_units(current_user)
    sheets = [(q, services.rated_unit_ids(q, respondent)) for q in services.open_questionnaires()]
    return render_template("evaluation/mine.html", sheets=sheets, units=units)


@bp.route("/<int:questionnaire_id>/units/<int:unit_id>", methods=["GET", "POST"])
@permission_required(can_evaluate)
def answer(questionnaire_id, unit_id):
    questionnaire = _questionnaire(questionnaire_id)
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or unit not in services.rateable_units(current_user) or not services.accepting(questionnaire):
        abort(404)
    respondent = services.respondent_for(current_user)
    if unit.id in services.rated_unit_ids(questionnaire, respondent):
        flash(_("You have already evaluated this unit in this questionnaire."), "info")
        return redirect(url_for(".mine"))
    form = answer_form(questionnaire.questions)
    if form.validate_on_submit():
        values = {q.id: form[f"q{q.id}"].data for q in questionnaire.questions}
        try:
            services.submit_response(questionnaire, unit, respondent, values)
        except DomainError as exc:
            db.session.rollback()
            _refused(exc)
            return redirect(url_for(".mine"))
        db.session.commit()
        flash(_("Thank you: your evaluation was recorded."), "success")
        return redirect(url_for(".mine"))
    return render_template("evaluation/answer.html", questionnaire=questionnaire, unit=unit, form=form)


# --- the ticket's link and the published results (no sign-in) --------------------------------------------------


@public_bp.route("/e/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def link(token):
    """A GET shows the questions (link scanners rate nothing); the form's POST records the answers once."""
    try:
        target = services.link_target(token)
    except DomainError as exc:
        return render_template("evaluation/link_closed.html", message=exc.message), exc.status_code
    form = answer_form(target.questionnaire.questions)
    if form.validate_on_submit():
        values = {q.id: form[f"q{q.id}"].data for q in target.questionnaire.questions}
        try:
            services.submit_response(target.questionnaire, target.unit, target.respondent, values)
        except DomainError as exc:
            db.session.rollback()
            return render_template("evaluation/link_closed.html", message=exc.message), exc.status_code
        db.session.commit()
        return render_template("evaluation/thanks.html")
    return render_template(
        "evaluation/answer.html", questionnaire=target.questionnaire, unit=target.unit, form=form, public=True
    )


@public_bp.route("/public/evaluation.json")
def published_json():
    """The published questionnaires' results: n everywhere, no value on fewer than PUBLIC_MIN_ANSWERS."""
    return jsonify(
        {
            "min_answers": minimum_answers(),
            "questionnaires": [
                {"year": q.year, "title": q.title, "units": services.published_results(q)}
                for q in services.published_questionnaires()
            ],
        }
    )
