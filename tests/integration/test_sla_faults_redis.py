"""Faults against a real Redis and real Celery workers (issue 5), on PostgreSQL.

Each test runs its own throwaway ``redis-server`` (a free port, no persistence) that it may stop and
start; the machine's Redis is never touched. Workers are ``celery -A workers.app worker`` subprocesses
on that broker, under a key prefix, sharing the test's PostgreSQL database.

- Redis stopped while tickets are created: every request returns promptly, every ticket is saved, and
  every SMS goes out exactly once after Redis is back, through the re-drive task run by a worker.
- A worker SIGKILLed in the middle of a sweep: what it committed stays, what it was doing is rolled
  back; after a restart every ladder step of every ticket exists exactly once.
- Two sweeps started at once on two workers: every step exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy import func, select

from config import celery_settings
from hotline import create_app
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.sla.models import SupervisionOrder
from hotline.tickets.models import Ticket, TicketEvent
from tests.factories import PASSWORD
from tests.integration.test_notify_delivery import Gateway

ROOT = Path(__file__).resolve().parents[2]
LADDER_ACTIONS = ("yellow_card", "red_card", "supervision_order", "escalated")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server this test may kill and start again on the same port."""

    def __init__(self, port: int):
        self.port, self.proc = port, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis_lib.Redis.from_url(self.url, socket_timeout=0.5).ping():
                    return
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class Worker:
    def __init__(self, env: dict, log: Path, name: str):
        self.log = log
        self.handle = open(log, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail("worker did not start:\n" + self.text()[-3000:])

    def kill(self):  # SIGKILL: no shutdown, no ack, no rollback from our side
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.handle.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.handle.close()


@pytest.fixture(scope="module")
def stack(pg_databases, tmp_path_factory):
    """(app, redis, worker env, SMS gateway): one PostgreSQL database and one private Redis for the module."""
    from flask_migrate import upgrade

    from hotline.demo.seed import seed_reference_data

    tmp = tmp_path_factory.mktemp("faults")
    redis = RedisServer(free_port())
    redis.start()
    db_url = pg_databases.create("faults")
    prefix = f"hotline-faults-{uuid.uuid4().hex[:8]}:"
    gateway = Gateway()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, CELERY=celery_settings(redis.url, redis.url, prefix))
    with app.app_context():
        upgrade()
        seed_reference_data()
        db.session.commit()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOTLINE_INSTANCE_DIR": str(tmp),
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": redis.url,
        "CELERY_RESULT_BACKEND": redis.url,
        "HOTLINE_REDIS_PREFIX": prefix,
        "SMS_GATEWAY": "http",
        "SMS_GATEWAY_URL": gateway.url,
        "HOTLINE_CONFIG": "development",
    }
    env.pop("REDIS_URL", None)
    try:
        yield app, redis, env, gateway, tmp
    finally:
        gateway.close()
        redis.kill()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def fresh(stack):
    """The module's stack with empty tables (reference data kept) and Redis running."""
    from tests.conftest import REFERENCE_TABLES

    app, redis, env, gateway, tmp = stack
    if redis.proc is None:
        redis.start()
    redis_lib.Redis.from_url(redis.url).flushall()
    gateway.requests.clear()
    gateway.status = 200
    with app.app_context():
        with db.engine.begin() as conn:  # the migrated tables (a model still without its migration is skipped)
            names = set(sa.inspect(conn).get_table_names()) - REFERENCE_TABLES
            conn.execute(sa.text(f"TRUNCATE {', '.join(sorted(names))} RESTART IDENTITY CASCADE"))
        yield stack
        db.session.remove()


def send(app, name: str, **kwargs):
    """Send a task as beat would. Right after Redis comes back the first publish may meet a dead pooled
    connection (publishing never retries, by design); beat would simply send it again a minute later."""
    for _ in range(20):
        try:
            return app.extensions["celery"].send_task(name, kwargs=kwargs)
        except Exception:  # noqa: BLE001 — kombu's connection errors
            time.sleep(0.25)
    raise AssertionError(f"could not send {name}")


def wait_for(condition, timeout: float, what: str, interval: float = 0.1, workers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if condition():
            return
        time.sleep(interval)
    logs = "\n".join(w.text()[-3000:] for w in workers)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


# --- Redis stopped while tickets are created ---------------------------------------------------------------


def test_redis_down_tickets_saved_and_every_sms_sent_after_it_returns(fresh):
    from tests.factories import build_world
    from tests.integration.test_intake_web import appeal_form

    app, redis, env, gateway, tmp = fresh
    world = build_world()
    replied = [world.ticket_in("replied", citizen_phone=f"1390000000{i}") for i in range(3)]
    db.session.commit()
    form = appeal_form(world)
    replied_nos = [t.tracking_no for t in replied]

    redis.kill()  # the broker is gone: the enqueue after each commit fails
    client = app.test_client()
    timings = []
    for i in range(4):
        started = time.monotonic()
        response = client.post("/appeal", data={**form, "title": f"断网期间的诉求{i}"})
        timings.append(time.monotonic() - started)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.post("/login", data={"username": "dispatcher", "password": PASSWORD}).status_code == 302
    for tracking_no in replied_nos:  # releasing an answer texts the citizen (an SMS row + an enqueue)
        started = time.monotonic()
        response = client.post(f"/tickets/{tracking_no}/actions/approve_reply", data={})
        timings.append(time.monotonic() - started)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # no request hangs on the dead broker (no publish retry, a 2 s connection timeout)
    assert max(timings) < 5, timings

    db.session.rollback()
    titles = set(db.session.execute(select(Ticket.title).where(Ticket.title.like("断网期间的诉求%"))).scalars())
    assert titles == {f"断网期间的诉求{i}" for i in range(4)}
    assert set(db.session.execute(select(Ticket.status).where(Ticket.tracking_no.in_(replied_nos))).scalars()) == {
        "pending_callback"
    }
    sms = db.session.execute(select(Notification).where(Notification.channel == "sms")).scalars().all()
    assert len(sms) == 3 and {n.status for n in sms} == {"pending"} and {n.attempts for n in sms} == {0}
    assert gateway.requests == []

    redis.start()  # Redis returns (empty: whatever was queued before is gone too)
    worker = Worker(env, tmp / "redrive.log", "redrive")
    try:
        worker.wait_ready()
        # the re-drive takes rows pending for more than two minutes: let those two minutes pass
        db.session.execute(sa.update(Notification).values(created_at=Notification.created_at - timedelta(minutes=5)))
        db.session.commit()
        send(app, "hotline.notify.redrive")  # what beat sends every minute
        wait_for(
            lambda: (
                db.session.execute(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.channel == "sms", Notification.status == "sent")
                ).scalar_one()
                == 3
            ),
            60,
            "the re-driven SMS",
            workers=[worker],
        )
        assert "hotline.notify.redrive" in worker.text()
    finally:
        worker.stop()
    phones = sorted(json.loads(r["body"])["phone"] for r in gateway.requests)
    assert phones == ["13900000000", "13900000001", "13900000002"]  # each citizen texted exactly once
    assert {
        n.attempts for n in db.session.execute(select(Notification).where(Notification.channel == "sms")).scalars()
    } == {1}


# --- the sweep under real workers ------------------------------------------------------------------------


def load_overdue(n: int) -> None:
    """``n`` in-progress tickets at a district whose every ladder step is due (yellow, red + 督办单,
    escalation): written in bulk, as the benchmark does."""
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user
    from hotline.orgs.models import UnitKind
    from hotline.orgs.services import create_unit

    city = create_unit("city", "海川市", UnitKind.CITY)
    hotline = create_unit("hotline", "12345热线中心", UnitKind.HOTLINE_CENTRE, city)
    district = create_unit("d1", "东湖区", UnitKind.DISTRICT, city)
    create_user("handler", PASSWORD, "handler", org_unit=district, roles=[(Role.HANDLER, district)])
    create_user("supervisor", PASSWORD, "supervisor", org_unit=hotline, roles=[(Role.SUPERVISOR, city)])
    db.session.commit()
    now = utcnow()
    params = dict(
        n=n,
        now=now - timedelta(days=30),
        hotline=hotline.id,
        district=district.id,
        warn=now - timedelta(days=12),
        deadline=now - timedelta(days=11),
        escalate=now - timedelta(days=1),
    )
    db.session.execute(
        sa.text("""
        INSERT INTO ticket (id, tracking_no, channel, appeal_type, urgency, title, body, citizen_phone, confidential,
            allow_publish, status, intake_unit_id, lead_unit_id, sign_deadline_at, answer_deadline_at,
            deadline_provisional, next_deadline_at, warning_level, escalation_level, dispatch_count, redo_count,
            created_at, updated_at, dispatched_at, version)
        SELECT g, '2026' || lpad(g::text, 10, '0'), 'phone', 'complaint', 'normal', '小区物业乱收费', '物业费擅自上调',
            '13800138000', false, false, 'in_progress', :hotline, :district, :now, :deadline, false, :warn,
            'none', 0, 1, 0, :now, :now, :now, 1
        FROM generate_series(1, :n) g"""),
        params,
    )
    db.session.execute(
        sa.text("""
        INSERT INTO sla_clock (ticket_id, kind, deadline_at, warn_at, escalate_at, stage)
        SELECT g, 'answer', :deadline, :warn, :escalate, 0 FROM generate_series(1, :n) g"""),
        params,
    )
    db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), :n)"), params)
    db.session.commit()


def step_counts() -> dict[str, list[int]]:
    """For each ladder action: [tickets with it once, tickets with it more than once]."""
    rows = db.session.execute(
        select(TicketEvent.action, TicketEvent.ticket_id, func.count())
        .where(TicketEvent.action.in_(LADDER_ACTIONS))
        .group_by(TicketEvent.action, TicketEvent.ticket_id)
    ).all()
    result = {a: [0, 0] for a in LADDER_ACTIONS}
    for action, _, count in rows:
        result[action][0 if count == 1 else 1] += 1
    return result


def assert_every_step_exactly_once(n: int) -> None:
    assert step_counts() == {a: [n, 0] for a in LADDER_ACTIONS}
    orders = db.session.execute(
        select(SupervisionOrder.ticket_id, func.count()).group_by(SupervisionOrder.ticket_id)
    ).all()
    assert len(orders) == n and {c for _, c in orders} == {1}
    # two recipients (the district's handler, the city supervisor) per step, once each
    notes = db.session.execute(select(Notification.template, func.count()).group_by(Notification.template)).all()
    assert dict(notes) == {"yellow_card": 2 * n, "red_card": 2 * n, "supervision_order": 2 * n, "escalated": 1 * n}
    tickets = db.session.execute(
        select(Ticket.warning_level, Ticket.escalation_level, Ticket.version, func.count()).group_by(
            Ticket.warning_level, Ticket.escalation_level, Ticket.version
        )
    ).all()
    assert tickets == [("red", 1, 2, n)]  # one bulk write per ticket, all three steps in it


def sweep_done(n: int):
    def check():
        due = db.session.execute(
            select(func.count()).select_from(Ticket).where(Ticket.next_deadline_at <= utcnow())
        ).scalar_one()
        return due == 0 and step_counts()["escalated"][0] + step_counts()["escalated"][1] == n

    return check


def test_worker_killed_mid_sweep_loses_and_doubles_no_step(fresh):
    app, redis, env, gateway, tmp = fresh
    n = 1000
    load_overdue(n)
    first = Worker(env, tmp / "killed.log", "killed")
    first.wait_ready()
    send(app, "hotline.sla.sweep", batch_size=10)  # small batches: many commits, a wide window to die in
    done = 0

    def some_done():
        nonlocal done
        done = db.session.execute(select(func.count(func.distinct(TicketEvent.ticket_id)))).scalar_one()
        return done >= 30

    try:
        wait_for(some_done, 60, "the sweep to start", interval=0.02, workers=[first])
    finally:
        first.kill()  # kill -9 in the middle of the sweep
    assert 0 < done < n, f"the sweep was not caught in the middle ({done} of {n})"
    # what the dead worker committed is whole: every stepped ticket has all its steps, once
    partial = step_counts()
    stepped = partial["yellow_card"][0]
    assert 0 < stepped < n and partial == {a: [stepped, 0] for a in LADDER_ACTIONS}

    second = Worker(env, tmp / "restarted.log", "restarted")
    try:
        second.wait_ready()
        # the killed worker's database session (and its advisory lock) dies with its connection; a sweep
        # that still finds the lock held does nothing, and the next one (beat: a minute later) goes on
        deadline = time.monotonic() + 60
        while True:
            db.session.rollback()
            if sweep_done(n)():
                break
            assert time.monotonic() < deadline, second.text()[-3000:]
            send(app, "hotline.sla.sweep")
            time.sleep(2)
    finally:
        second.stop()
    db.session.rollback()
    assert_every_step_exactly_once(n)


def test_two_sweeps_at_once_on_two_workers_take_every_step_once(fresh):
    app, redis, env, gateway, tmp = fresh
    n = 600
    load_overdue(n)
    workers = [Worker(env, tmp / f"pair{i}.log", f"pair{i}") for i in range(2)]
    try:
        for w in workers:
            w.wait_ready()
        for _ in range(2):  # each worker takes one (prefetch 1, solo pool)
            send(app, "hotline.sla.sweep", batch_size=10)
        wait_for(
            lambda: (
                all("hotline.sla.sweep" in w.text() and "succeeded" in w.text() for w in workers) and sweep_done(n)()
            ),
            60,
            "both sweeps",
            workers=workers,
        )
    finally:
        for w in workers:
            w.stop()
    assert_every_step_exactly_once(n)
    # both ran; the one that found the other holding the lock stood aside
    logs = [w.text() for w in workers]
    assert all("Task hotline.sla.sweep" in text for text in logs)
