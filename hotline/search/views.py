"""Staff search page and the operator console's assistant panel (similar tickets, policy articles)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from hotline.accounts.decorators import permission_required
from hotline.core.params import in_date_range, query_id, query_page
from hotline.extensions import db
from hotline.knowledge.services import find_articles
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_register_calls
from hotline.search import services
from hotline.tickets.labels import STATUS
from hotline.tickets.models import Category
from hotline.tickets.validation import normalise_phone

bp = Blueprint("search", __name__, url_prefix="/search")


def _date(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None
    return day if in_date_range(day) else None


def filters_from_args() -> services.SearchFilters:
    status = request.args.get("status") or None
    if status and status not in STATUS:
        abort(400)
    return services.SearchFilters(
        status=status,
        unit_id=query_id("unit"),
        category_id=query_id("category"),
        date_from=_date("from"),
        date_to=_date("to"),
    )


@bp.route("/")
@login_required
def results():
    q = (request.args.get("q") or "").strip()
    filters = filters_from_args()
    page = services.search_tickets(q, current_user, filters, page=query_page())
    units = (
        db.session.execute(
            select(OrgUnit)
            .where(
                OrgUnit.kind.in_([UnitKind.DEPARTMENT.value, UnitKind.DISTRICT.value, UnitKind.STREET.value]),
                OrgUnit.active,
            )
            .order_by(OrgUnit.path)
        )
        .scalars()
        .all()
    )
    categories = db.session.execute(select(Category).where(Category.active).order_by(Category.code)).scalars().all()
    return render_template(
        "search/results.html",
        result=page,
        filters=filters,
        q=q,
        units=units,
        categories=categories,
        statuses=list(STATUS),
    )


@bp.route("/assist")
@permission_required(can_register_calls)
def assist():
    """Fragment beside the call form: open tickets like this appeal, and articles that answer it."""
    args = request.args
    title, body = args.get("title", "")[:200], args.get("body", "")[:4000]
    category_id, district_id = query_id("category_id"), query_id("district_id")
    duplicates = services.find_duplicates(
        phone=normalise_phone(args.get("phone")) or None,
        category_id=category_id,
        district_id=district_id,
        title=title,
        body=body,
        address=args.get("address") or None,
    )
    kb_query = (args.get("kb") or "").strip()
    if kb_query:
        articles = find_articles(kb_query, category_id)
    else:
        articles = find_articles(f"{title} {body}", category_id, whole_text=True)
    return render_template("search/_assist.html", duplicates=duplicates, articles=articles, kb_query=kb_query)
