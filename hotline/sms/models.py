"""What the SMS gateway told us: citizens' replies (one row per provider message: webhooks are retried) and the
phones that opted out of non-essential messages (``TD`` / ``退订``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model


class InboundOutcome(enum.StrEnum):
    RATED = "rated"  # 1 / 2 / 3 recorded as the rating of the latest released ticket
    NOTED = "noted"  # other text: a note on the phone's open ticket, for the operator
    DRAFTED = "drafted"  # other text, no open ticket: a new appeal draft
    OPTED_OUT = "opted_out"  # TD / 退订
    REFUSED = "refused"  # understood but not applicable (a rating with nothing to rate, …): answered by SMS
    IGNORED = "ignored"  # empty or unreadable


class InboundSms(Model):
    __tablename__ = "sms_inbound"
    __table_args__ = (
        UniqueConstraint("provider", "message_id"),
        enum_check("outcome", InboundOutcome),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
    outcome: Mapped[str] = enum_column(InboundOutcome)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # A draft (outcome drafted) waits in the review queue until an operator registers or dismisses it.
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SmsOptOut(Model):
    """A phone that asked for no non-essential SMS (``TD``, or ``flask sms opt-out``); a later ``TD`` changes
    nothing; ``flask sms opt-in`` lifts it (the row is deleted)."""

    __tablename__ = "sms_opt_out"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    via: Mapped[str] = mapped_column(String(16), default="sms")
