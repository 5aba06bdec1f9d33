"""Celery tasks. Each has a stable name, takes ids, calls one service and commits."""
from __future__ import annotations

from celery import shared_task

from hotline.extensions import db
from hotline.notify import services as notify


@shared_task(name=notify.DELIVER_TASK)
def deliver_notification(notification_id: int) -> bool:
    sent = notify.deliver(notification_id)
    db.session.commit()
    return sent


@shared_task(name="hotline.notify.redrive")
def redrive_notifications() -> int:
    """Re-send what an after-commit enqueue missed (broker down, worker lost)."""
    ids = notify.pending_ids()
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return len(ids)


@shared_task(name="hotline.ping")
def ping(value: str) -> str:
    """A health check that proves a worker runs tasks from the configured broker."""
    return f"pong:{value}"
