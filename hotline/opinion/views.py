"""Opinion case pages: the staff list, a case with its stages (/opinion), the supervisors' overview, and the
published responses on the portal (/public/opinion)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.accounts.decorators import permission_required
from hotline.accounts.models import Role
from hotline.core.errors import DomainError
from hotline.core.forms import add_errors, options
from hotline.dashboard.queries import hotspot_alerts
from hotline.extensions import db
from hotline.opinion import services
from hotline.opinion.forms import (
    LEVEL_LABELS,
    SOURCE_LABELS,
    STAGE_LABELS,
    AnalyseForm,
    CloseForm,
    ExternalItemForm,
    LinkForm,
    NoteForm,
    RespondForm,
    StepForm,
)
from hotline.opinion.models import OpinionCase
from hotline.permissions import (
    can_manage_opinion,
    can_oversee_opinion,
    can_see_opinion_cases,
    handles_opinion_case,
    reads_opinion_case,
)
from hotline.tickets.models import Category

bp = Blueprint("opinion", __name__, url_prefix="/opinion")
public_bp = Blueprint("opinion_public", __name__, url_prefix="/public/opinion")

LABELS = {"levels": LEVEL_LABELS, "sources": SOURCE_LABELS, "stages": STAGE_LABELS}


def _case(opinion_id: int) -> OpinionCase:
    case = services.load_case(opinion_id)
    if case is None or not reads_opinion_case(current_user, case):
        abort(404)  # another unit's case: its existence is not confirmed
    return case


def _categories() -> list[Category]:
    return list(
        db.session.execute(
            select(Category).where(Category.parent_id.is_not(None), Category.active).order_by(Category.code)
        ).scalars()
    )


@bp.route("/")
@permission_required(can_see_opinion_cases)
def index():
    stage = request.args.get("stage") or None
    cases = list(db.session.execute(services.visible_cases(current_user, stage)).scalars())
    hotspots, covered = [], set()
    if can_manage_opinion(current_user):
        scope = current_user.scopes(Role.SUPERVISOR, Role.DISPATCHER)
        hotspots = hotspot_alerts(scope[0]) if scope else []
        covered = services.covered_alerts([h["id"] for h in hotspots])
    return render_template(
        "opinion/index.html",
        cases=cases,
        stage=stage,
        hotspots=hotspots,
        covered=covered,
        today=services.local_today(),
        overdue={c.id for c in cases if services.is_overdue(c)},
        **LABELS,
    )


@bp.route("/from-hotspot/<int:alert_id>", methods=["POST"])
@permission_required(can_manage_opinion)
def open_from_hotspot(alert_id):
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        case = services.open_hotspot_case(alert_id, current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 404:
            abort(404)
        flash(str(exc.message), "danger")
        return redirect(url_for(".index"))
    flash(_("Opinion case opened with %(n)d linked tickets.", n=len(case.links)), "success")
    return redirect(url_for(".detail", opinion_id=case.id))


@bp.route("/new", methods=["GET", "POST"])
@permission_required(can_manage_opinion)
def new_case():
    form = ExternalItemForm()
    form.category_id.choices = options([("", _("No category"))] + [(c.id, c.full_name) for c in _categories()])
    if form.validate_on_submit():
        try:
            case = services.open_external_case(
                current_user,
                source=form.source.data,
                url=form.url.data,
                title=form.title.data,
                excerpt=form.excerpt.data,
                category_id=form.category_id.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "title")
        else:
            flash(_("Opinion case opened."), "success")
            return redirect(url_for(".detail", opinion_id=case.id))
    return render_template("opinion/new.html", form=form), 400 if form.errors else 200


def _forms() -> dict:
    forms = {
        "link": LinkForm(prefix="link"),
        "analyse": AnalyseForm(prefix="analyse"),
        "handle": StepForm(prefix="handle"),
        "note": NoteForm(prefix="note"),
        "respond": RespondForm(prefix="respond"),
        "close": CloseForm(prefix="close"),
    }
    forms["analyse"].lead_unit_id.choices = options(
        [("", "—")] + [(u.id, u.name) for u in services.lead_unit_choices()]
    )
    return forms


def _render_detail(case: OpinionCase, forms: dict, status: int = 200):
    if request.method == "GET" and case.analysed_at is not None:
        form = forms["analyse"]
        form.level.data, form.lead_unit_id.data = case.level, case.lead_unit_id
        form.deadline.data, form.analysis.data = case.deadline, case.analysis
    trend = services.trend(case)
    return render_template(
        "opinion/detail.html",
        case=case,
        forms=forms,
        trend=trend,
        manages=can_manage_opinion(current_user),
        handles=handles_opinion_case(current_user, case),
        overdue=services.is_overdue(case),
        age=services.age_days(case),
        **LABELS,
    ), status


@bp.route("/<int:opinion_id>")
@permission_required(can_see_opinion_cases)
def detail(opinion_id):
    return _render_detail(_case(opinion_id), _forms())


@bp.route("/<int:opinion_id>/<any(link, unlink, analyse, handle, note, respond, close):step>", methods=["POST"])
@permission_required(can_see_opinion_cases)
def act(opinion_id, step):
    case = _case(opinion_id)
    allowed = handles_opinion_case(current_user, case) if step == "note" else can_manage_opinion(current_user)
    if not allowed:
        abort(403)
    forms = _forms()
    form = forms["link" if step == "unlink" else step]
    if not form.validate_on_submit():
        return _render_detail(case, forms, 400)
    try:
        if step in ("link", "unlink"):
            service = services.link_ticket if step == "link" else services.unlink_ticket
            service(case, current_user, form.tracking_no.data)
        elif step == "analyse":
            services.analyse_case(
                case,
                current_user,
                level=form.level.data or None,
                lead_unit_id=form.lead_unit_id.data,
                deadline=form.deadline.data,
                analysis=form.analysis.data,
            )
        elif step == "handle":
            services.start_handling(case, current_user)
        elif step == "note":
            services.add_handling_note(case, current_user, form.body.data)
        elif step == "respond":
            services.publish_response(
                case,
                current_user,
                title=form.response_title.data,
                body=form.response_body.data,
                confirmed=bool(form.confirm.data),
            )
        else:
            services.close_case(case, current_user, form.review.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        case = _case(opinion_id)
        add_errors(form, exc, _first_field(form))
        flash(str(exc.message), "danger")
        return _render_detail(case, forms, exc.status_code)
    flash(_("Saved."), "success")
    return redirect(url_for(".detail", opinion_id=opinion_id))


def _first_field(form) -> str | None:
    return next((name for name in form._fields if name != "csrf_token"), None)


@bp.route("/overview")
@permission_required(can_oversee_opinion)
def overview():
    today = services.local_today()
    groups = services.overview(today)
    ages = {c.id: services.age_days(c, today) for g in groups for c in g.cases}
    overdue = {c.id for g in groups for c in g.cases if services.is_overdue(c, today)}
    return render_template("opinion/overview.html", groups=groups, ages=ages, overdue=overdue, **LABELS)


@public_bp.route("/")
def public_index():
    return render_template("opinion/public_index.html", responses=services.public_responses())


@public_bp.route("/<int:opinion_id>")
def public_show(opinion_id):
    response = services.public_response(opinion_id)
    if response is None:
        abort(404)
    return render_template("opinion/public_show.html", response=response)
