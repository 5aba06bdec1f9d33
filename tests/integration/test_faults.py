"""Faults (issue 9): with Redis unreachable, intake, sign-in and staff pages keep working and rate limits
degrade to per-process memory (docs/security.md). PostgreSQL restarts are a drill, not a test (docs)."""
from __future__ import annotations

import time

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
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       REDIS_URL=DEAD_REDIS, RATELIMIT_STORAGE_URI=DEAD_REDIS,
                       RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.2, "socket_timeout": 0.2})
    client = other.test_client()
    started = time.monotonic()
    assert client.get("/portal").status_code == 200
    form = {"appeal_type": "complaint", "category_id": str(world.category.id), "district_id": str(world.district.id),
            "citizen_phone": PHONE, "title": "路灯不亮", "body": "小区门口路灯坏了一周。"}
    assert client.post("/appeal", data=form).status_code == 302
    g.pop("_login_user", None)
    assert client.post("/login", data={"username": "operator", "password": PASSWORD}).status_code == 302
    g.pop("_login_user", None)
    assert client.get("/").status_code == 200
    # the limits still apply, from memory: the sign-in lockout still answers 429
    for n in range(6):
        g.pop("_login_user", None)
        last = other.test_client().post("/login", data={"username": "dispatcher", "password": "wrong-guess"})
    assert last.status_code == 429
    assert time.monotonic() - started < 30  # no request hangs on the dead Redis
    with other.app_context():
        db.engine.dispose()
