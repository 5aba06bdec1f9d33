"""A telephone call as the telephony system reported it (``POST /api/v1/cti/events``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model


class CallState(enum.StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class WrapUp(enum.StrEnum):
    """How an operator closed an abandoned call that has no ticket (the wrap-up list)."""

    CALLED_BACK = "called_back"
    DISMISSED = "dismissed"


class Call(Model):
    """One call, keyed by the telephony's ``call_id``: when it rang, was answered at which extension (and so by
    which operator; a call that rang at an extension and was never answered is that operator's too), ended,
    where its recording is, the ticket it was registered as (if any), and how an abandoned call was wrapped up
    (who did it is in the audit log)."""

    __tablename__ = "phone_call"
    __table_args__ = (enum_check("state", CallState),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str | None] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    state: Mapped[str] = enum_column(CallState, default=CallState.RINGING.value)
    ringing_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    wrap_up: Mapped[str | None] = mapped_column(String(16))  # a WrapUp value (no CHECK: added to SQLite)
    wrapped_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()

    operator: Mapped[User | None] = relationship()

    @property
    def started_at(self) -> datetime | None:
        return self.answered_at or self.ringing_at

    @property
    def duration_seconds(self) -> int | None:
        """Talk time: from answer to hang-up (None while it goes on or when nobody answered)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(int((self.ended_at - self.answered_at).total_seconds()), 0)

    @property
    def abandoned(self) -> bool:
        """The caller hung up before anyone answered."""
        return self.ended_at is not None and self.answered_at is None

    def __repr__(self) -> str:
        return f"<Call {self.call_id} {self.state}>"
