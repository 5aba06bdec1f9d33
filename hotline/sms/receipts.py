"""Delivery receipts: what the SMS provider later says became of a message we sent (docs/sms.md).

A receipt names the message by the provider's id (``Notification.provider_ref``); Aliyun also echoes our
notification id (OutId), which finds a message whose send answer was lost. Providers retry webhooks and
carriers repeat reports, so applying a receipt twice changes nothing, and an older one never overwrites a newer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from hotline.extensions import db
from hotline.notify.models import Notification, NotifyChannel
from hotline.sms.providers import Receipt

log = logging.getLogger(__name__)
DELIVERED, UNDELIVERED = "delivered", "undelivered"


@dataclass
class ReceiptCounts:
    received: int = 0
    updated: int = 0
    unchanged: int = 0  # repeats, and receipts older than the one recorded
    ignored: int = 0  # no SMS of ours has that id


def _notification_for(receipt: Receipt) -> Notification | None:
    sms = Notification.channel == NotifyChannel.SMS.value
    note = db.session.execute(
        select(Notification).where(sms, Notification.provider_ref == receipt.provider_ref).limit(1)
    ).scalar_one_or_none()
    if note is None and receipt.out_id and receipt.out_id.isdigit() and len(receipt.out_id) <= 18:
        note = db.session.execute(
            select(Notification).where(sms, Notification.id == int(receipt.out_id))
        ).scalar_one_or_none()
        if note is not None and note.provider_ref is not None:
            return None  # that row was sent as another message: this receipt is not about it
    return note


def record_receipts(receipts: list[Receipt]) -> ReceiptCounts:
    """Set each message's receipt (delivered / undelivered, when) and, undelivered, the provider's error as the
    row's ``last_error``. Flushes; the caller commits."""
    counts = ReceiptCounts(received=len(receipts))
    for receipt in receipts:
        note = _notification_for(receipt)
        if note is None:
            counts.ignored += 1
            log.info("SMS receipt for an unknown message %r ignored", receipt.provider_ref)
            continue
        state = DELIVERED if receipt.delivered else UNDELIVERED
        if note.receipt_at is not None and (
            receipt.at < note.receipt_at or (receipt.at == note.receipt_at and note.receipt == state)
        ):
            counts.unchanged += 1
            continue
        note.receipt, note.receipt_at = state, receipt.at
        note.last_error = None if receipt.delivered else (receipt.error or UNDELIVERED)[:500]
        if note.provider_ref is None:
            note.provider_ref = receipt.provider_ref[:64]
        counts.updated += 1
    db.session.flush()
    return counts
