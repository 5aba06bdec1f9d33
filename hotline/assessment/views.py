"""``/assessment``: periods, their ranking per level, weights, close / recompute / release, objections, XLSX."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response as BaseResponse

from hotline.accounts.decorators import permission_required
from hotline.accounts.models import Role
from hotline.assessment import exports, queries, services
from hotline.assessment.forms import DecisionForm, ObjectionForm, PeriodForm, ReasonForm, WeightsForm
from hotline.assessment.models import AssessmentObjection, AssessmentPeriod
from hotline.core.audit import record_audit
from hotline.core.errors import DomainError
from hotline.core.forms import add_errors, options
from hotline.core.spreadsheets import CONTENT_TYPES
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.permissions import (
    can_decide_objection,
    can_object_for,
    can_run_assessment,
    can_see_assessment,
    sees_assessment_of,
)

bp = Blueprint("assessment", __name__, url_prefix="/assessment")


def _period(period_id: int) -> AssessmentPeriod:
    period = db.session.get(AssessmentPeriod, period_id)
    if period is None:
        abort(404)
    return period


def _objection_units() -> list[OrgUnit]:
    """The units the signed-in handler may object for (their handler scopes' units of the ranked levels)."""
    scopes = current_user.scopes(Role.HANDLER)
    if not scopes:
        return []
    return [
        u
        for u in db.session.execute(
            select(OrgUnit)
            .where(or_(*[OrgUnit.path.startswith(s.path) for s in scopes]), OrgUnit.kind.in_(services.LEVELS))
            .order_by(OrgUnit.path)
        ).scalars()
        if can_object_for(current_user, u)
    ]


@bp.route("/")
@permission_required(can_see_assessment)
def index() -> str:
    return render_template(
        "assessment/index.html", periods=queries.periods(), form=PeriodForm(), title=_("Unit assessment")
    )


@bp.route("/new", methods=["POST"])
@permission_required(can_run_assessment)
def new_period() -> BaseResponse | tuple[str, int]:
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            period = services.create_period(current_user, form.label.data or "")
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "label")
        else:
            flash(_("Period %(label)s created.", label=period.label), "success")
            return redirect(url_for(".period", period_id=period.id))
    return render_template(
        "assessment/index.html", periods=queries.periods(), form=form, title=_("Unit assessment")
    ), 400


def _render_period(period: AssessmentPeriod, status: int = 200, **forms: object) -> tuple[str, int]:
    rows = queries.visible_rows(current_user, services.period_rows(period))
    weights_form = forms.get("weights_form") or WeightsForm(
        formdata=None, data={f: period.weights.get(k) for k, f in WeightsForm.FIELDS.items()}
    )
    objection_form = forms.get("objection_form") or ObjectionForm(formdata=None)
    units = _objection_units()
    objection_form.unit_id.choices = options([(u.id, u.name) for u in units])  # type: ignore[attr-defined]
    return render_template(
        "assessment/period.html",
        period=period,
        levels=services.by_level(rows),
        objections=queries.objections(period, current_user),
        objections_open=services.objections_open(period),
        objection_deadline=services.objection_deadline(period),
        pending_application=services.pending_application(period),
        weights_form=weights_form,
        reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
        objection_form=objection_form,
        decision_form=DecisionForm(formdata=None),
        objection_units=units,
        can_run=can_run_assessment(current_user),
        can_decide=can_decide_objection(current_user),
        title=_("Assessment %(label)s", label=period.label),
    ), status


@bp.route("/<int:period_id>")
@permission_required(can_see_assessment)
def period(period_id: int) -> tuple[str, int]:
    return _render_period(_period(period_id))


@bp.route("/<int:period_id>/weights", methods=["POST"])
@permission_required(can_run_assessment)
def weights(period_id: int) -> BaseResponse | tuple[str, int]:
    period = _period(period_id)
    form = WeightsForm()
    if form.validate_on_submit():
        values = {key: form[name].data for key, name in WeightsForm.FIELDS.items()}
        try:
            services.set_weights(current_user, period, values)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, _form_fields(exc), "on_time")
            flash(str(exc.message), "danger")
        else:
            flash(_("Weights saved."), "success")
            return redirect(url_for(".period", period_id=period.id))
    return _render_period(period, 400, weights_form=form)


def _form_fields(exc: DomainError) -> DomainError:
    """The service names the weight ``return``; the form's field is ``return_``."""
    if "return" in exc.fields:
        exc.fields = {("return_" if k == "return" else k): v for k, v in exc.fields.items()}
    return exc


@bp.route("/<int:period_id>/<any(close, recompute, release):step>", methods=["POST"])
@permission_required(can_run_assessment)
def change(period_id: int, step: str) -> BaseResponse | tuple[str, int]:
    period = _period(period_id)
    form = ReasonForm()
    try:
        if step == "close":
            services.close_period(current_user, period)
        elif step == "release":
            services.release_period(current_user, period)
        else:
            services.recompute_period(current_user, period, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        period = _period(period_id)
        if step == "recompute":
            add_errors(form, exc, "reason")
        flash(str(exc.message), "danger")
        return _render_period(period, exc.status_code, reason_form=form)
    flash(
        {"close": _("Period closed: its scores are frozen."), "release": _("Released on the public page.")}.get(
            step, _("Recomputed.")
        ),
        "success",
    )
    return redirect(url_for(".period", period_id=period.id))


@bp.route("/<int:period_id>/objections", methods=["POST"])
@permission_required(can_see_assessment)
def object_to(period_id: int) -> BaseResponse | tuple[str, int]:
    period = _period(period_id)
    form = ObjectionForm()
    form.unit_id.choices = options([(u.id, u.name) for u in _objection_units()])
    if form.validate_on_submit():
        unit = db.session.get(OrgUnit, form.unit_id.data) if form.unit_id.data else None
        try:
            services.file_objection(current_user, period, unit, form.tracking_no.data or "", form.reason.data or "")
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            period = _period(period_id)
            add_errors(form, exc, "tracking_no")
            flash(str(exc.message), "danger")
            return _render_period(period, exc.status_code, objection_form=form)
        flash(_("Objection filed; a supervisor will decide it."), "success")
        return redirect(url_for(".period", period_id=period.id))
    return _render_period(period, 400, objection_form=form)


@bp.route("/objections/<int:objection_id>/<any(uphold, reject):verdict>", methods=["POST"])
@permission_required(can_decide_objection)
def decide(objection_id: int, verdict: str) -> BaseResponse | tuple[str, int]:
    objection = db.session.get(AssessmentObjection, objection_id)
    if objection is None:
        abort(404)
    form = DecisionForm()
    try:
        services.decide_objection(current_user, objection, verdict == "uphold", form.note.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return _render_period(_period(objection.period_id), exc.status_code)
    flash(_("Objection upheld.") if verdict == "uphold" else _("Objection rejected."), "success")
    return redirect(url_for(".period", period_id=objection.period_id) + "#objections")


@bp.route("/<int:period_id>/assessment.xlsx")
@permission_required(can_see_assessment)
def export(period_id: int) -> Response:
    period = _period(period_id)
    rows = [r for r in services.period_rows(period) if sees_assessment_of(current_user, r.unit)]
    content = exports.workbook(period, rows)
    record_audit(current_user, "export.assessment", f"assessment:{period.label}", {"rows": len(rows)})
    db.session.commit()
    return Response(
        content,
        mimetype=CONTENT_TYPES["xlsx"],
        headers={"Content-Disposition": f"attachment; filename=assessment-{period.label}.xlsx"},
    )
