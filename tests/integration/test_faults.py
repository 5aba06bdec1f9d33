"""Faults (issue 9): with Redis unreachable, intake, sign-in and staff pages keep working and rate limits
degrade to per-process memory (docs/security.md). PostgreSQL restarts are a drill, not a test (docs)."""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from flask import g

from hotline.extensions import db, limiter
from tests.factories import PASSWORD, PHONE

DEAD_REDIS = "redis://127.0.0.1:6399/0"  # nothing listens there


@pytest.fixture
def restore_limiter():
    """``limiter`` is one object; binding it to a second app swaps its storage: put the original back."""
    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def test_redis_down_pages_and_intake_keep_working(app, world, restore_limiter):
    from hotline import create_app

    other = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=DEAD_REDIS,
        RATELIMIT_STORAGE_URI=DEAD_REDIS,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    )
    client = other.test_client()
    started = time.monotonic()
    assert client.get("/portal").status_code == 200
    form = {
        "appeal_type": "complaint",
        "category_id": str(world.category.id),
        "district_id": str(world.district.id),
        "citizen_phone": PHONE,
        "title": "路灯不亮",
        "body": "小区门口路灯坏了一周。",
    }
    assert client.post("/appeal", data=form).status_code == 302
    g.pop("_login_user", None)
    assert client.post("/login", data={"username": "operator", "password": PASSWORD}).status_code == 302
    g.pop("_login_user", None)
    assert client.get("/").status_code == 200
    # the limits still apply, from memory: the sign-in lockout still answers 429
    for _n in range(6):
        g.pop("_login_user", None)
        last = other.test_client().post("/login", data={"username": "dispatcher", "password": "wrong-guess"})
    assert last.status_code == 429
    assert time.monotonic() - started < 30  # no request hangs on the dead Redis
    with other.app_context():
        db.engine.dispose()


# --- a worker SIGKILLed mid-sweep on the embedded set-up (SQLite + kombu's SQLAlchemy transport) ----------


def _load_due(n: int, already_ordered: int) -> None:
    """``n`` in-progress tickets with every ladder step due; the first ``already_ordered`` had their red card
    and 督办单 for this very deadline before a reply was sent back (the clock re-armed, the order kept)."""
    from datetime import timedelta

    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user
    from hotline.core.clock import utcnow
    from hotline.orgs.models import UnitKind
    from hotline.orgs.services import create_unit
    from hotline.sla.models import SlaClock, SupervisionOrder
    from hotline.tickets.models import Ticket

    city = create_unit("city", "海川市", UnitKind.CITY)
    hotline = create_unit("hotline", "12345热线中心", UnitKind.HOTLINE_CENTRE, city)
    district = create_unit("d1", "东湖区", UnitKind.DISTRICT, city)
    create_user("handler", PASSWORD, "handler", org_unit=district, roles=[(Role.HANDLER, district)])
    now = utcnow()
    start, warn, deadline, escalate = (now - timedelta(days=d) for d in (30, 12, 11, 1))
    db.session.execute(
        Ticket.__table__.insert(),
        [
            dict(
                id=i,
                tracking_no=f"2026{i:010d}",
                channel="phone",
                appeal_type="complaint",
                urgency="normal",
                title="小区物业乱收费",
                body="物业费擅自上调",
                citizen_phone=PHONE,
                confidential=False,
                allow_publish=False,
                status="in_progress",
                intake_unit_id=hotline.id,
                lead_unit_id=district.id,
                sign_deadline_at=start,
                answer_deadline_at=deadline,
                deadline_provisional=False,
                next_deadline_at=warn,
                warning_level="none",
                escalation_level=0,
                dispatch_count=1,
                redo_count=0,
                created_at=start,
                updated_at=start,
                dispatched_at=start,
                version=1,
            )
            for i in range(1, n + 1)
        ],
    )
    db.session.execute(
        SlaClock.__table__.insert(),
        [
            dict(ticket_id=i, kind="answer", deadline_at=deadline, warn_at=warn, escalate_at=escalate, stage=0)
            for i in range(1, n + 1)
        ],
    )
    db.session.execute(
        SupervisionOrder.__table__.insert(),
        [
            dict(
                ticket_id=i,
                unit_id=district.id,
                message="工单已超期",
                source="ladder",
                response_deadline=deadline,
                ladder_stage=2,
                clock_kind="answer",
                clock_deadline_at=deadline,
                created_at=deadline,
            )
            for i in range(1, already_ordered + 1)
        ],
    )
    db.session.commit()


def test_a_worker_killed_mid_sweep_leaves_one_order_per_ticket_and_stage(tmp_path):
    """Issue 23, item 8: a real worker SIGKILLed in the middle of a sweep, the sweep run again; every
    ticket ends with exactly one ladder 督办单 for its stage and round, its other steps once each."""
    import os
    from datetime import datetime, timedelta

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from config import celery_settings
    from hotline import create_app
    from hotline.sla.ladder import run_sweep
    from hotline.sla.models import SupervisionOrder, SweepLease
    from hotline.tickets.models import TicketEvent
    from tests.integration.test_sla_faults_redis import ROOT, Worker

    n, already_ordered = 400, 100
    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    broker, backend = f"sqla+sqlite:///{tmp_path / 'broker.db'}", f"db+sqlite:///{tmp_path / 'results.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, CELERY=celery_settings(broker, backend))
    env = {
        **os.environ,
        "HOTLINE_INSTANCE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "HOTLINE_CONFIG": "development",
    }
    env.pop("REDIS_URL", None)
    with app.app_context():
        upgrade()
        _load_due(n, already_ordered)

        def stepped() -> int:
            return db.session.execute(select(func.count(func.distinct(TicketEvent.ticket_id)))).scalar_one()

        worker = Worker(env, tmp_path / "killed.log", "killed")
        try:
            worker.wait_ready()
            app.extensions["celery"].send_task("hotline.sla.sweep", kwargs={"batch_size": 2})  # many commits
            deadline, done = time.monotonic() + 45, 0
            while done < 20 and time.monotonic() < deadline:
                time.sleep(0.02)
                db.session.rollback()
                done = stepped()
        finally:
            worker.kill()  # kill -9: no shutdown, no rollback from the worker's side
        db.session.rollback()
        done = stepped()
        assert 0 < done < n, f"the sweep was not caught in the middle ({done} of {n}):\n{worker.text()[-3000:]}"
        # the dead worker's lease would run out by itself five minutes later: let those minutes pass
        expired = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
        db.session.execute(sa.update(SweepLease).values(expires_at=expired))
        db.session.commit()
        counts = run_sweep()
        assert counts["tickets"] == n - done
        orders = db.session.execute(
            select(
                SupervisionOrder.ticket_id, SupervisionOrder.ladder_stage, SupervisionOrder.clock_kind, func.count()
            ).group_by(SupervisionOrder.ticket_id, SupervisionOrder.ladder_stage, SupervisionOrder.clock_kind)
        ).all()
        assert len(orders) == n and {(stage, kind, c) for _, stage, kind, c in orders} == {(2, "answer", 1)}
        steps = dict(db.session.execute(select(TicketEvent.action, func.count()).group_by(TicketEvent.action)).all())
        assert steps == {
            "yellow_card": n,
            "red_card": n,
            "escalated": n,
            "supervision_order": n - already_ordered,
            "supervision_overdue": already_ordered,
        }  # the earlier orders, long unanswered
        db.session.remove()
        db.engine.dispose()
