"""Demo key livelihood projects, tagged to fitting demo tickets (called by ``flask seed-demo``)."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from hotline.core.clock import utcnow
from hotline.dashboard.models import LivelihoodProject, project_ticket
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Category, Ticket

# name, description, category codes of the tickets it covers, public
DEMO_PROJECTS = [
    ("老旧小区改造", "全市老旧小区外立面、管网、电梯加装改造。", ("0501", "0503"), True),
    ("城市噪声治理", "夜间施工与商业噪声专项治理。", ("0404",), True),
    ("根治欠薪", "保障农民工工资按时足额支付。", ("0106",), False),
]


def seed_demo_dashboard() -> None:
    """Projects, and the rollups of the demo weeks so the dashboard has figures before the worker runs."""
    from hotline.dashboard.services import rollup_today

    seed_demo_projects()
    rollup_today()


def seed_demo_projects() -> int:
    """Create the demo projects once and tag up to 12 matching tickets each; returns projects created."""
    year = utcnow().year
    created = 0
    for name, description, codes, public in DEMO_PROJECTS:
        if db.session.execute(select(LivelihoodProject).filter_by(year=year, name=name)).scalar_one_or_none():
            continue
        project = LivelihoodProject(
            year=year,
            name=name,
            description=description,
            public=public,
            lead_unit_id=db.session.execute(select(OrgUnit.id).filter_by(code="city-housing")).scalar()
            if "改造" in name
            else None,
        )
        db.session.add(project)
        db.session.flush()
        created += 1
        tagged = set(db.session.execute(select(project_ticket.c.ticket_id)).scalars())
        ids = [
            i
            for i in db.session.execute(
                select(Ticket.id)
                .join(Category, Category.id == Ticket.category_id)
                .where(Category.code.in_(codes))
                .order_by(Ticket.id)
            ).scalars()
            if i not in tagged
        ][:12]
        if ids:
            db.session.execute(
                insert(project_ticket), [dict(ticket_id=i, project_id=project.id, tagged_at=utcnow()) for i in ids]
            )
    db.session.flush()
    return created


_ = func
