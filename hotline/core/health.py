"""Health checks for load balancers and monitoring: ``/healthz`` (the process serves) and ``/readyz`` (it can
do its work: the database and the Celery broker answer).

Each check runs in its own thread and gets ``READYZ_TIMEOUT`` seconds: a server that accepts the connection and
then hangs makes its component ``"error"``, never the probe hang. A check still stuck from an earlier probe is
not started again (so a hung server cannot pile up threads); it reports ``"error"`` until it returns. No login,
no rate limit, no session: probes come every few seconds from machines without cookies.
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from hotline.extensions import db, limiter

log = logging.getLogger("hotline.health")
bp = Blueprint("health", __name__)
limiter.exempt(bp)

READYZ_TIMEOUT = 1.5  # seconds for all checks together; the probe answers well within 2 s


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    checks = {
        "database": (_check_database, _database_engine(current_app)),
        "broker": (_check_broker, current_app.extensions["celery"]),
    }
    results = _run_checks(
        current_app.extensions.setdefault("hotline_health_running", {}),
        checks,
        float(current_app.config.get("READYZ_TIMEOUT", READYZ_TIMEOUT)),
    )
    ready = all(v == "ok" for v in results.values())
    return jsonify(status="ok" if ready else "error", **results), 200 if ready else 503


def _run_checks(running: dict, checks: dict, timeout: float) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    threads = {}
    for name, (check, target) in checks.items():
        previous = running.get(name)
        if previous is not None and previous.is_alive():
            log.warning("readyz: %s check still hanging from an earlier probe", name)
            outcomes[name] = "error"
            continue
        thread = threading.Thread(
            target=_record, args=(name, check, target, outcomes), name=f"readyz-{name}", daemon=True
        )
        running[name] = threads[name] = thread
        thread.start()
    deadline = time.monotonic() + timeout
    for name, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("readyz: %s did not answer within %.1f s", name, timeout)
    return {name: outcomes.get(name, "error") for name in checks}


def _record(name: str, check, target, outcomes: dict) -> None:
    try:
        check(target)
    except Exception as exc:  # noqa: BLE001 — any failure means "not ready"; the log says which
        log.warning("readyz: %s check failed: %s: %s", name, type(exc).__name__, exc)
        outcomes[name] = "error"
    else:
        outcomes[name] = "ok"


def _database_engine(app):
    """PostgreSQL: an engine of its own, without a pool, whose connections give up after 2 s (connect) and
    1.5 s (statement), so a hung server frees the check's thread; SQLite: the app's engine."""
    if db.engine.dialect.name != "postgresql":
        return db.engine
    engine = app.extensions.get("hotline_health_engine")
    if engine is None:
        engine = app.extensions["hotline_health_engine"] = sa.create_engine(
            db.engine.url,
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": 2, "options": "-c statement_timeout=1500"},
        )
    return engine


def _check_database(engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1")).scalar_one()


def _check_broker(celery_app) -> None:
    """Connect and declare the default queue: a round trip on every transport (Redis, kombu's SQLAlchemy
    transport, memory), harmless because every worker declares it too."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        conn.default_channel.queue_declare(queue=celery_app.conf.task_default_queue, durable=True, auto_delete=False)
