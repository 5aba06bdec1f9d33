"""The demo data: the city the README promises, every status, consistent histories, idempotent."""

import pytest
from sqlalchemy import func, select

from hotline.accounts.services import authenticate
from hotline.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import Category, Ticket, TicketEvent
from hotline.tickets.workflow import Status


@pytest.fixture
def seeded(app):
    seed_demo(ticket_count=300)
    db.session.commit()
    return app


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_demo_city_has_the_promised_shape(seeded):
    assert _count(OrgUnit, OrgUnit.kind == "district") >= 4
    assert _count(OrgUnit, OrgUnit.kind == "street") >= 12
    assert _count(OrgUnit, OrgUnit.kind == "community") >= 24
    assert _count(OrgUnit, OrgUnit.kind == "department", OrgUnit.depth == 1) >= 12
    names = set(db.session.execute(select(Category.name)).scalars())
    for field in [
        "最低生活保障",
        "特困人员供养",
        "医疗救助",
        "临时救助",
        "就业服务",
        "公租房",
        "棚户区改造",
        "住房维修",
        "空气质量",
        "饮用水",
        "污染排放",
        "食品安全",
        "药品安全",
        "乡村振兴与脱贫攻坚",
        "噪音扰民",
        "物业管理",
        "拖欠工资",
        "消费纠纷",
    ]:
        assert field in names
    for username, *_ in DEMO_ACCOUNTS:
        assert authenticate(username, DEMO_PASSWORD) is not None, username


def test_tickets_cover_every_status_with_consistent_histories(seeded):
    assert _count(Ticket) >= 300
    statuses = set(db.session.execute(select(Ticket.status).distinct()).scalars())
    assert statuses == {s.value for s in Status}
    for ticket in db.session.execute(select(Ticket)).scalars():
        events = [e for e in ticket.events if e.to_status]
        assert events[0].from_status is None
        assert events[-1].to_status == ticket.status
        for before, after in zip(events, events[1:]):  # each step starts where the last one ended
            assert after.from_status == before.to_status
            assert after.created_at >= before.created_at
        if ticket.status in ("dispatched", "in_progress", "replied", "return_requested", "suspended"):
            assert ticket.lead_assignment() is not None
        if ticket.status == "merged":
            assert ticket.merged_into is not None
    assert _count(TicketEvent) > 1000


def test_seed_is_idempotent(seeded):
    before = (_count(Ticket), _count(OrgUnit), _count(TicketEvent))
    summary = seed_demo(ticket_count=300)
    db.session.commit()
    assert (_count(Ticket), _count(OrgUnit), _count(TicketEvent)) == before
    assert "tickets created: 0" in summary
