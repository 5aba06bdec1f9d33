"""Queueing and delivering notifications through the outbox."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from hotline.core.after_commit import enqueue_after_commit
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.notify.models import Notification, NotifyChannel, NotifyStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
DELIVER_TASK = "hotline.notify.deliver"


def queue_notification(channel: str, recipient: str, template: str, *, ticket=None, payload: dict | None = None,
                       recipient_user_id: int | None = None) -> Notification:
    """Write the outbox row in the caller's transaction; delivery is enqueued after it commits."""
    note = Notification(channel=NotifyChannel(channel).value, recipient=recipient, template=template,
                        payload=payload or {}, ticket=ticket, recipient_user_id=recipient_user_id,
                        created_at=utcnow())
    db.session.add(note)
    enqueue_after_commit(db.session, DELIVER_TASK, note)
    return note


def _send(note: Notification) -> None:
    """The gateway: in-app needs no delivery; SMS and e-mail go to the configured gateway (logged here)."""
    if note.channel != NotifyChannel.IN_APP.value:
        log.info("notify %s → %s: %s %s", note.channel, note.recipient, note.template, note.payload)


def deliver(notification_id: int) -> bool:
    """Deliver one notification. Idempotent: a sent one is left alone."""
    note = db.session.execute(select(Notification).where(Notification.id == notification_id)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()
    if note is None or note.status != NotifyStatus.PENDING.value:
        return False
    note.attempts += 1
    try:
        _send(note)
    except Exception as exc:  # the gateway failed: try again on the next re-drive
        note.last_error = str(exc)[:500]
        if note.attempts >= MAX_ATTEMPTS:
            note.status = NotifyStatus.FAILED.value
        return False
    note.status, note.sent_at = NotifyStatus.SENT.value, utcnow()
    return True


def pending_ids(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> list[int]:
    """Pending notifications whose first delivery should have happened by now."""
    cutoff = utcnow() - older_than
    return list(db.session.execute(
        select(Notification.id).where(Notification.status == NotifyStatus.PENDING.value,
                                      Notification.created_at <= cutoff)
        .order_by(Notification.created_at).limit(limit)).scalars())
