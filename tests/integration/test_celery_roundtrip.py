"""A task sent through the configured broker is run by a real worker process.

Two set-ups: the embedded default (SQLite + kombu's SQLAlchemy transport) and
production's (PostgreSQL + Redis, under a key prefix this test removes).
"""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib
from flask_migrate import upgrade

from config import celery_settings
from hotline import create_app
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.notify.services import queue_notification
from tests.conftest import REDIS_URL, service_unavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite+sqla", "postgresql+redis"])
def wired(request, tmp_path):
    """(app, worker environment) sharing one database and one broker."""
    env = {**os.environ, "HOTLINE_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    prefix = None
    if request.param == "sqlite+sqla":
        db_url = f"sqlite:///{tmp_path / 'app.db'}"
        broker, backend = f"sqla+sqlite:///{tmp_path / 'broker.db'}", f"db+sqlite:///{tmp_path / 'results.db'}"
    else:
        db_url = request.getfixturevalue("pg_databases").create("celery")
        try:
            redis_lib.Redis.from_url(REDIS_URL).ping()
        except redis_lib.RedisError as exc:
            service_unavailable("Redis", exc)
        broker = backend = REDIS_URL
        prefix = f"hotline-test-{uuid.uuid4().hex[:8]}:"
        env["HOTLINE_REDIS_PREFIX"] = prefix
    env.update(
        DATABASE_URL=db_url, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend, HOTLINE_CONFIG="development"
    )  # the worker's config, chosen on purpose on PostgreSQL
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, CELERY=celery_settings(broker, backend, prefix))
    with app.app_context():
        upgrade()
        db.session.commit()
    yield app, env
    with app.app_context():
        db.engine.dispose()
    if prefix:
        client = redis_lib.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


def _start_worker(env):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_until_sent(app, notification_id, worker, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            note = db.session.get(Notification, notification_id)
            if note.status == "sent":
                return note
        if worker.poll() is not None:
            break
        time.sleep(0.5)
    worker.terminate()
    pytest.fail("the worker did not deliver the notification:\n" + worker.communicate(timeout=10)[0][-4000:])


def test_committed_notification_is_delivered_by_a_real_worker(wired):
    app, env = wired
    with app.app_context():
        note = queue_notification("sms", "13800138000", "ticket_dispatched", payload={"tracking_no": "x"})
        db.session.commit()  # the task is sent only now
        note_id = note.id
    worker = _start_worker(env)
    try:
        delivered = _wait_until_sent(app, note_id, worker)
        assert delivered.attempts == 1 and delivered.sent_at is not None
    finally:
        worker.terminate()
        worker.wait(20)


def test_rolled_back_change_sends_nothing_and_redrive_delivers_stale_rows(wired):
    app, env = wired
    with app.app_context():
        queue_notification("in_app", "dispatcher", "lost_with_rollback")
        db.session.rollback()  # nothing was committed, so nothing may be sent
        stale = Notification(
            channel="sms",
            recipient="13800138000",
            template="reply_released",
            payload={},
            created_at=utcnow() - timedelta(minutes=10),
        )
        db.session.add(stale)  # as if the broker had been down when it was committed
        db.session.commit()
        stale_id = stale.id
        assert db.session.query(Notification).count() == 1
        app.extensions["celery"].send_task("hotline.notify.redrive")
    worker = _start_worker(env)
    try:
        _wait_until_sent(app, stale_id, worker)
    finally:
        worker.terminate()
        worker.wait(20)
