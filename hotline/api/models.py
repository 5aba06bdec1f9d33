"""Partner-channel API keys and which appeals each key filed.

Only a SHA-256 of a key is stored: keys are long random strings, so a fast hash
is enough and lets every request find its key with one indexed lookup.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.models import created_at_column
from hotline.extensions import db


class ApiKey(db.Model):
    """One partner channel's key (民心网, 民意网…); revoked keys stay for the record."""
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    # The first characters of the key, shown in lists so an admin can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    # Usage, updated by one UPDATE per request (hotline.api.services.find_active_key).
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    request_count: Mapped[int] = mapped_column(default=0, server_default="0")

    created_by: Mapped[Optional[User]] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.channel}>"


class ApiSubmission(db.Model):
    """The key a ticket was filed with: a partner reads back its own appeals and nobody else's."""
    __tablename__ = "api_submission"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), index=True)
