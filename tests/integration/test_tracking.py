from datetime import date, datetime

import pytest
import sqlalchemy as sa

from hotline.core.clock import frozen_at
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.orgs.models import UnitKind
from hotline.orgs.services import create_unit
from hotline.tickets.models import DailySequence
from hotline.tickets.services import register_ticket
from tests.factories import appeal


def test_tracking_number_is_the_local_date_and_a_daily_sequence(world):
    # 2026-03-01 17:30 UTC is already 2 March in Asia/Shanghai.
    with frozen_at(datetime(2026, 3, 1, 17, 30)):
        first = register_ticket(appeal(world), world.operator, "register")
        second = register_ticket(appeal(world), world.operator, "register")
    with frozen_at(datetime(2026, 3, 2, 17, 30)):
        next_day = register_ticket(appeal(world), world.operator, "register")
    db.session.commit()
    assert (first.tracking_no, second.tracking_no, next_day.tracking_no) == (
        "20260302000001",
        "20260302000002",
        "20260303000001",
    )


def test_the_daily_range_ends_at_999999(world):
    """The seventh digit never appears: the millionth appeal of a day is refused, not misnumbered."""
    db.session.add(DailySequence(day=date(2026, 3, 2), last_value=999_998))
    db.session.commit()
    with frozen_at(datetime(2026, 3, 2, 4, 0)):
        last = register_ticket(appeal(world), world.operator, "register")
        assert last.tracking_no == "20260302999999"
        with pytest.raises(ValidationFailed):
            register_ticket(appeal(world), world.operator, "register")


def test_centre_is_read_again_after_the_org_tree_changes(world):
    first = register_ticket(appeal(world), world.operator, "register")
    assert first.intake_unit_id == world.hotline.id
    world.hotline.kind = UnitKind.DISTRICT.value  # say the centre was reorganised into another unit
    centre = create_unit("hotline2", "市民服务热线中心", UnitKind.HOTLINE_CENTRE, world.city)
    second = register_ticket(appeal(world, citizen_phone="13800000000"), world.operator, "register")
    db.session.commit()
    assert second.intake_unit_id == centre.id


# --- PostgreSQL: one sequence per day ---------------------------------------------------------------------


def test_a_day_sequence_continues_the_days_daily_sequence_row(pg_world):
    """Numbers taken before the day's sequence existed (an upgrade mid-day, a bulk load) are not reused."""
    db.session.add(DailySequence(day=date(2026, 3, 2), last_value=41))
    db.session.commit()
    with frozen_at(datetime(2026, 3, 2, 4, 0)):
        ticket = register_ticket(appeal(pg_world), pg_world.operator, "register")
    db.session.commit()
    assert ticket.tracking_no == "20260302000042"


def test_a_rolled_back_intake_leaves_a_gap_not_a_duplicate(pg_world):
    with frozen_at(datetime(2026, 3, 2, 4, 0)):
        register_ticket(appeal(pg_world), pg_world.operator, "register")
        db.session.rollback()
        kept = register_ticket(appeal(pg_world), pg_world.operator, "register")
    db.session.commit()
    assert kept.tracking_no == "20260302000002"


def test_the_number_is_taken_on_the_intakes_own_connection(pg_world):
    """No second connection and no commit of its own per intake (the day's sequence exists already)."""
    register_ticket(appeal(pg_world), pg_world.operator, "register")  # creates today's sequence
    db.session.commit()
    seen = []

    def checkout(*args):
        seen.append("checkout")

    def commit(conn):
        seen.append("commit")

    sa.event.listen(db.engine.pool, "checkout", checkout)
    sa.event.listen(db.engine, "commit", commit)
    try:
        db.session.execute(sa.text("SELECT 1"))  # the request's connection
        register_ticket(appeal(pg_world), pg_world.operator, "register")
        db.session.commit()
    finally:
        sa.event.remove(db.engine.pool, "checkout", checkout)
        sa.event.remove(db.engine, "commit", commit)
    assert seen == ["checkout", "commit"]
