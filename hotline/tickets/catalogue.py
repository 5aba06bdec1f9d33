"""Admin pages for the routing catalogue (派单目录) and the canned answers (常用答复)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.accounts.decorators import permission_required
from hotline.core.params import form_id, query_id
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_administer
from hotline.tickets import handling
from hotline.tickets.models import CannedAnswer, Category, CategoryRoute
from hotline.tickets.validation import LIMITS

bp = Blueprint("catalogue", __name__, url_prefix="/admin")


def _districts() -> list[OrgUnit]:
    return list(
        db.session.execute(select(OrgUnit).filter_by(kind=UnitKind.DISTRICT.value).order_by(OrgUnit.code)).scalars()
    )


@bp.route("/routing", methods=["GET", "POST"])
@permission_required(can_administer)
def routing():
    districts = _districts()
    if not districts:
        abort(404)
    district = db.session.get(OrgUnit, query_id("district") or districts[0].id)
    if district is None or district.kind != UnitKind.DISTRICT.value:
        abort(404)
    categories = list(
        db.session.execute(select(Category).where(Category.parent_id.isnot(None)).order_by(Category.code)).scalars()
    )
    # A category in a district goes to a city department, or to a unit of that district.
    units = list(
        db.session.execute(
            select(OrgUnit)
            .where(
                OrgUnit.active,
                ((OrgUnit.kind == UnitKind.DEPARTMENT.value) & (OrgUnit.depth == 1))
                | OrgUnit.path.startswith(district.path),
            )
            .order_by(OrgUnit.path)
        ).scalars()
    )
    if request.method == "POST":
        allowed = {u.id: u for u in units}
        for category in categories:
            value = form_id(f"route-{category.id}")
            if value is not None and value not in allowed:
                abort(400)
            handling.set_route(category.id, district.id, allowed.get(value) if value else None)
        from hotline.core.audit import record_audit

        record_audit(
            current_user,
            "routing.update",
            f"district {district.code}",
            {k: v for k, v in request.form.items() if k.startswith("route-")},
        )
        db.session.commit()
        flash(_("Routing catalogue saved for %(district)s.", district=district.name), "success")
        return redirect(url_for(".routing", district=district.id))
    routes = {
        r.category_id: r.unit_id
        for r in db.session.execute(select(CategoryRoute).filter_by(district_id=district.id)).scalars()
    }
    return render_template(
        "tickets/routing.html",
        districts=districts,
        district=district,
        categories=categories,
        units=units,
        routes=routes,
    )


@bp.route("/canned", methods=["GET", "POST"])
@permission_required(can_administer)
def canned():
    categories = list(
        db.session.execute(select(Category).where(Category.parent_id.isnot(None)).order_by(Category.code)).scalars()
    )
    errors = {}
    if request.method == "POST":
        title = (request.form.get("title") or "").strip()
        body = (request.form.get("body") or "").strip()
        category_id = form_id("category_id")
        if not title or len(title) > 100:
            errors["title"] = _("A title of at most 100 characters is required.")
        if not body or len(body) > LIMITS["body"]:
            errors["body"] = _("The answer text is required.")
        if category_id and db.session.get(Category, category_id) is None:
            errors["category_id"] = _("Unknown category.")
        if not errors:
            db.session.add(CannedAnswer(title=title, body=body, category_id=category_id or None))
            from hotline.core.audit import record_audit

            record_audit(current_user, "canned.create", title, {"category_id": category_id or None})
            db.session.commit()
            flash(_("Canned answer added."), "success")
            return redirect(url_for(".canned"))
    answers = list(
        db.session.execute(
            select(CannedAnswer).order_by(CannedAnswer.active.desc(), CannedAnswer.category_id, CannedAnswer.title)
        ).scalars()
    )
    return render_template(
        "tickets/canned.html", answers=answers, categories=categories, errors=errors, form=request.form
    ), 400 if errors else 200


@bp.route("/canned/<int:answer_id>/toggle", methods=["POST"])
@permission_required(can_administer)
def toggle_canned(answer_id):
    answer = db.session.get(CannedAnswer, answer_id) or abort(404)
    answer.active = not answer.active
    from hotline.core.audit import record_audit

    record_audit(current_user, "canned.toggle", f"canned answer {answer.id}", {"active": answer.active})
    db.session.commit()
    return redirect(url_for(".canned"))
