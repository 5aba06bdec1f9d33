from datetime import datetime

from hotline.core.clock import frozen_at
from hotline.extensions import db
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
        "20260302000001", "20260302000002", "20260303000001")
