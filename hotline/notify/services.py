"""Queueing and delivering notifications through the outbox.

A notification is a row written in the transaction of the change it reports. In-app
notifications are delivered by being written (the bell reads them). SMS and e-mail rows are
sent by the ``hotline.notify.deliver`` task once the transaction commits; a failed attempt is
retried with exponential backoff, and the beat re-drives rows whose task never ran (broker
down at commit time, worker lost).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement, Select, String, cast, distinct, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from hotline.core.after_commit import enqueue_after_commit
from hotline.core.clock import utcnow
from hotline.core.models import rows_matched, table_of
from hotline.extensions import db
from hotline.notify.models import Notification, NotifyChannel, NotifyStatus

if TYPE_CHECKING:
    from hotline.tickets.models import Ticket

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
DELIVER_TASK = "hotline.notify.deliver"
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, 4 min … at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


class Recipient(Protocol):
    """A staff member to notify: a ``User``, or the lighter row of one the ladder sweep loads."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str | None: ...


def queue_notification(
    channel: str,
    recipient: str,
    template: str,
    *,
    ticket: Ticket | None = None,
    payload: dict[str, object] | None = None,
    recipient_user_id: int | None = None,
) -> Notification:
    """Write the outbox row in the caller's transaction; delivery is enqueued after it commits."""
    now = utcnow()
    note = Notification(
        channel=NotifyChannel(channel).value,
        recipient=recipient,
        template=template,
        payload=payload or {},
        ticket=ticket,
        recipient_user_id=recipient_user_id,
        created_at=now,
    )
    if note.channel == NotifyChannel.IN_APP.value:
        note.status, note.sent_at = NotifyStatus.SENT.value, now  # the row is the delivery
    db.session.add(note)
    if note.channel != NotifyChannel.IN_APP.value:
        _deliver_after_commit(note)
    return note


def notify_users(
    users: Iterable[Recipient],
    template: str,
    *,
    ticket: Ticket | None = None,
    payload: dict[str, object] | None = None,
    email: bool = False,
) -> int:
    """In-app to every user; e-mail too when ``email`` and the user has an address."""
    count = 0
    for user in users:
        queue_notification("in_app", user.username, template, ticket=ticket, payload=payload, recipient_user_id=user.id)
        count += 1
        if email and user.email:
            queue_notification("email", user.email, template, ticket=ticket, payload=payload, recipient_user_id=user.id)
            count += 1
    return count


# --- the delivery task, sent once the outbox rows are committed --------------------------------------------


def _deliver_after_commit(note_or_id: Notification | int) -> None:
    enqueue_after_commit(db.session, DELIVER_TASK, note_or_id)


def notification_rows(
    users: Iterable[Recipient],
    template: str,
    *,
    ticket_id: int | None,
    payload: dict[str, object] | None,
    email: bool = False,
) -> list[dict[str, object]]:
    """The outbox rows ``notify_users`` writes, for ``insert_notifications`` (bulk writers): what differs
    from one row to the next; ``insert_notifications`` adds the status and times."""
    payload = payload or {}
    rows: list[dict[str, object]] = []
    for user in users:
        rows.append(
            {
                "channel": NotifyChannel.IN_APP.value,
                "recipient": user.username,
                "recipient_user_id": user.id,
                "template": template,
                "payload": payload,
                "ticket_id": ticket_id,
            }
        )
        if email and user.email:
            rows.append(
                {
                    "channel": NotifyChannel.EMAIL.value,
                    "recipient": user.email,
                    "recipient_user_id": user.id,
                    "template": template,
                    "payload": payload,
                    "ticket_id": ticket_id,
                }
            )
    return rows


def insert_notifications(rows: list[dict[str, object]], now: datetime | None = None) -> int:
    """Write ``notification_rows`` in bulk in the caller's transaction: the in-app ones as sent (the row
    is the delivery), the others pending, with RETURNING, and enqueued after the commit like
    ``queue_notification``'s."""
    from hotline.sla.bulk import insert_rows

    now = now or utcnow()
    table = table_of(Notification)
    common = {"attempts": 0, "last_error": None, "created_at": now, "next_attempt_at": None, "read_at": None}
    in_app = [r for r in rows if r["channel"] == NotifyChannel.IN_APP.value]
    others = [r for r in rows if r["channel"] != NotifyChannel.IN_APP.value]
    insert_rows(table, in_app, constants={**common, "status": NotifyStatus.SENT.value, "sent_at": now})
    if others:
        for notification_id in insert_rows(
            table,
            others,
            returning_ids=True,
            constants={**common, "status": NotifyStatus.PENDING.value, "sent_at": None},
        ):
            _deliver_after_commit(notification_id)
    return len(rows)


def _send(note: Notification) -> None:
    from hotline.notify.channels import send_email
    from hotline.notify.templates import render
    from hotline.sms.providers import sms_provider

    subject, body = render(note.template, note.payload, locale=_recipient_locale(note))
    if note.channel == NotifyChannel.SMS.value:
        # The provider's id of the message: its delivery receipt names it (hotline.sms.receipts).
        note.provider_ref = sms_provider().send(
            note.recipient, body, template=note.template, params=note.payload, out_id=str(note.id)
        )
    elif note.channel == NotifyChannel.EMAIL.value:
        send_email(note.recipient, subject, body)


def _recipient_locale(note: Notification) -> str | None:
    """A staff member's chosen language; None (the default language) for citizens and users who chose none."""
    if note.recipient_user_id is None:
        return None
    from flask import current_app

    from hotline.accounts.models import User

    locale = db.session.execute(select(User.locale).where(User.id == note.recipient_user_id)).scalar()
    return locale if locale in current_app.config["LANGUAGES"] else None


def deliver(notification_id: int) -> str:
    """Try one notification: ``sent``, ``retry`` (failed, will be tried again), ``failed`` (gave up)
    or ``skipped`` (already done, or another worker holds it). Idempotent."""
    note = db.session.execute(
        select(Notification).where(Notification.id == notification_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if note is None or note.status != NotifyStatus.PENDING.value:
        return "skipped"
    now = utcnow()
    note.attempts += 1
    try:
        _send(note)
    except Exception as exc:  # noqa: BLE001 — any gateway failure: try again later
        note.last_error = str(exc)[:500]
        log.warning("notification %s attempt %s failed: %s", note.id, note.attempts, exc)
        if note.attempts >= MAX_ATTEMPTS:
            note.status = NotifyStatus.FAILED.value
            return "failed"
        note.next_attempt_at = now + backoff(note.attempts)
        return "retry"
    note.status, note.sent_at, note.last_error = NotifyStatus.SENT.value, now, None
    return "sent"


def pending_ids(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> list[int]:
    """Pending notifications whose delivery should have happened by now (first try or backoff)."""
    now = utcnow()
    cutoff = now - older_than
    return list(
        db.session.execute(
            select(Notification.id)
            .where(
                Notification.status == NotifyStatus.PENDING.value,
                Notification.created_at <= cutoff,
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now - older_than),
            )
            .order_by(Notification.created_at)
            .limit(limit)
        ).scalars()
    )


# --- the in-app inbox --------------------------------------------------------------------------------------

# The bell counts and the inbox lists groups: one per ticket and kind (a ticket's third yellow card is the
# same news as its first), a notification about no ticket on its own. A new one bumps its group to the top.


def _unread_where(user_id: int | InstrumentedAttribute[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        Notification.recipient_user_id == user_id,
        Notification.channel == NotifyChannel.IN_APP.value,
        Notification.read_at.is_(None),
    )


def _group_key() -> ColumnElement[str]:
    """``template:ticket`` (``template:-id`` without a ticket) as one value, for COUNT(DISTINCT …)."""
    return Notification.template.concat(":").concat(
        cast(func.coalesce(Notification.ticket_id, -Notification.id), String)
    )


def unread_groups(user_id: int | InstrumentedAttribute[int]) -> Select[tuple[int]]:
    """The bell's count as a statement: ``user_id`` a value or a column (the signed-in user's load embeds it)."""
    return select(func.count(distinct(_group_key()))).where(*_unread_where(user_id))


def unread_count(user_id: int) -> int:
    """The bell: how many tickets and kinds have unread news."""
    return db.session.execute(unread_groups(user_id)).scalar_one()


@dataclass(frozen=True)
class NotificationGroup:
    """The notifications of one ticket and kind: the latest, how many, how many unread."""

    latest: Notification
    count: int
    unread: int


def inbox(user_id: int, limit: int = 100, scan: int = 1000) -> list[NotificationGroup]:
    """The user's notification groups, the most recently bumped first (over their ``scan`` latest rows)."""
    notes = db.session.execute(
        select(Notification)
        .where(Notification.recipient_user_id == user_id, Notification.channel == NotifyChannel.IN_APP.value)
        .order_by(Notification.id.desc())
        .limit(scan)
        .options(selectinload(Notification.ticket))
    ).scalars()
    latest: dict[tuple[str, int], Notification] = {}
    count: Counter[tuple[str, int]] = Counter()
    unread: Counter[tuple[str, int]] = Counter()
    for note in notes:
        key = (note.template, note.ticket_id if note.ticket_id is not None else -note.id)
        if key not in latest:
            if len(latest) == limit:
                continue
            latest[key] = note
        count[key] += 1
        unread[key] += note.read_at is None
    return [NotificationGroup(note, count[key], unread[key]) for key, note in latest.items()]


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one notification's group (same ticket and kind), or every in-app notification, of the user read."""
    stmt = update(Notification).where(*_unread_where(user_id))
    if notification_id is not None:
        note = db.session.execute(
            select(Notification.template, Notification.ticket_id).where(
                Notification.id == notification_id, Notification.recipient_user_id == user_id
            )
        ).first()
        if note is None:
            return 0
        if note.ticket_id is None:
            stmt = stmt.where(Notification.id == notification_id)
        else:
            stmt = stmt.where(Notification.template == note.template, Notification.ticket_id == note.ticket_id)
    return rows_matched(db.session.execute(stmt.values(read_at=utcnow())))
