"""Notification: an outbox row; a worker delivers it, the beat re-drives stale ones."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model


class NotifyChannel(str, enum.Enum):
    SMS = "sms"
    EMAIL = "email"
    IN_APP = "in_app"


class NotifyStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        enum_check("channel", NotifyChannel),
        enum_check("status", NotifyStatus),
        Index(
            "ix_notification_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # The bell: a user's unread in-app notifications.
        Index(
            "ix_notification_unread",
            "recipient_user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = enum_column(NotifyChannel)
    recipient: Mapped[str] = mapped_column(String(120))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    status: Mapped[str] = enum_column(NotifyStatus, default=NotifyStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)  # backoff after a failed attempt
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # SMS: the provider's id of the message, and what its delivery receipt said (docs/sms.md).
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    receipt: Mapped[str | None] = mapped_column(String(16))  # delivered | undelivered
    receipt_at: Mapped[datetime | None] = mapped_column(DateTime)

    ticket = relationship("Ticket")
