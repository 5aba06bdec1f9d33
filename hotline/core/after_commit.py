"""Run side effects only once the transaction that caused them has committed.

A task enqueued inside a transaction could run before the row it needs is
visible, or for a change that is rolled back. ``enqueue_after_commit`` keeps the
call on the session and sends it from the ``after_commit`` event; a rollback
drops it. Tasks are sent by name through the app's own Celery, so ``hotline``
never imports ``workers``. If the broker is down at that moment nothing is lost:
the outbox and the sweep re-drive what was not sent.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "hotline_after_commit"


def enqueue_after_commit(session, task_name: str, *args) -> None:
    """Send task ``task_name`` once ``session`` commits. A model instance among ``args`` is sent
    as its id, so a caller need not flush just to learn an id."""
    session = session() if hasattr(session, "registry") else session  # scoped_session → Session
    session.info.setdefault(_KEY, []).append((task_name, args))


def has_pending(session: Session) -> bool:
    """Whether ``session`` holds tasks to send on its commit."""
    return bool(session.info.get(_KEY))


def _as_id(value):
    try:
        state = inspect(value)
    except NoInspectionAvailable:
        return value
    return state.identity[0]  # known without SQL, even when the instance is expired


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    if not pending:
        return
    celery = current_app.extensions["celery"]
    for sent, (task_name, args) in enumerate(pending):
        try:
            # ignore_result: with a Redis result backend, a send that wants a result would subscribe for it
            # and retry its connection for ~20 s inside the request when Redis is down.
            celery.send_task(task_name, args=[_as_id(a) for a in args], ignore_result=True)
        except Exception:  # broker down: stop trying; the beat re-drive sends the rest later
            log.warning("broker unreachable: %d task(s) left for the re-drive", len(pending) - sent, exc_info=True)
            return


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_KEY, None)
