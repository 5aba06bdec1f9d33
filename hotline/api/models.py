"""Partner-channel API keys, which appeals each key filed, and the answers kept for retried requests.

Only a SHA-256 of a key is stored: keys are long random strings, so a fast hash
is enough and lets every request find its key with one indexed lookup.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model


class KeyKind(enum.StrEnum):
    PARTNER = "partner"  # a partner channel files and reads back its appeals
    CTI = "cti"  # the call centre's telephony reports calls, and may do nothing else


class ApiKey(Model):
    """One partner channel's key (民心网, 民意网…) or the telephony's; revoked keys stay for the record."""

    __tablename__ = "api_key"
    __table_args__ = (enum_check("kind", KeyKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = enum_column(KeyKind, default=KeyKind.PARTNER.value, server_default=KeyKind.PARTNER.value)
    # The first characters of the key, shown in lists so an admin can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Usage, updated by one UPDATE per request (hotline.api.services.find_active_key).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    request_count: Mapped[int] = mapped_column(default=0, server_default="0")

    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.channel}>"


class ApiSubmission(Model):
    """The key a ticket was filed with: a partner reads back its own appeals and nobody else's."""

    __tablename__ = "api_submission"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), index=True)


class IdempotencyKey(Model):
    """A partner's ``Idempotency-Key`` and the answer its first request got (hotline.api.idempotency).

    ``scope`` is the endpoint and the caller (an API key, a staff user, an anonymous address), so one
    caller's keys never answer another's. The UNIQUE (scope, key) is what makes two requests racing with one
    key make one ticket: the second one's INSERT waits for the first to commit, fails, and replays its answer.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_key_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column()
    response_body: Mapped[str] = mapped_column(Text)
    response_content_type: Mapped[str] = mapped_column(String(100))
    response_location: Mapped[str | None] = mapped_column(String(200))
    # The purge (purge_expired_keys) deletes by age.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
