"""The audit history of admin actions, exports and views of full contact data: who, when, what.

One append-only table. Services call ``record_audit`` inside the transaction of the action they record
(it flushes, never commits), so an action and its audit row are kept or lost together. Rows are never
updated or deleted by the application. Ticket-level history stays in TicketEvent (a contact reveal on the
staff page is both a ``reveal_contact`` TicketEvent and an audit row); this table is the one place an
admin reads to answer "who changed or saw what".
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.clock import utcnow
from hotline.extensions import Model, db

log = logging.getLogger("hotline.audit")

# Action names, dotted by area; docs/security.md lists them.
ACTIONS = (
    "user.create",
    "user.set_password",
    "user.deactivate",
    "routing.update",
    "canned.create",
    "canned.toggle",
    "calendar.day",
    "calendar.import",
    "sla_policy.update",
    "apikey.create",
    "apikey.revoke",
    "project.create",
    "project.update",
    "export.tickets",
    "export.kpi",
    "contact.view",
    "call.recording",
    "login.failed",
    "login.locked",
    "user.activate",
    "user.set_roles",
    "user.set_unit",
    "user.set_extension",
    "user.sign_out_everywhere",
    "user.update",
    "user.reset_password",
    "user.change_password",
    "user.unlock",
    "unit.create",
    "unit.update",
    "unit.move",
    "unit.deactivate",
    "unit.activate",
    "category.create",
    "category.update",
    "category.reorder",
    "category.deactivate",
    "category.activate",
    "demo.seed",
    "import.units",
    "import.categories",
    "import.users",
    "import.routing",
    "export.units",
    "export.categories",
    "export.users",
    "export.routing",
    "assessment.create",
    "assessment.weights",
    "assessment.close",
    "assessment.recompute",
    "assessment.release",
    "assessment.objection",
    "assessment.objection_decided",
    "export.assessment",
    "accountability.open",
    "accountability.report",
    "accountability.review",
    "accountability.remind",
    "opinion.open",
    "opinion.link",
    "opinion.unlink",
    "opinion.analyse",
    "opinion.handle",
    "opinion.note",
    "opinion.respond",
    "opinion.close",
    "archive.restore",
)


class AuditEntry(Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # The name at the time, kept even if the account is renamed; "system" for commands without a user.
    actor_name: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    target: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: what changed (never a password)
    address: Mapped[str | None] = mapped_column(String(64))  # the client address when there is a request

    actor = relationship("User", lazy="joined")

    @property
    def detail_data(self) -> dict:
        try:
            return json.loads(self.detail) if self.detail else {}
        except ValueError:
            return {"text": self.detail}


def _describe_actor(actor) -> tuple[int | None, str]:
    if actor is None or actor == "system":
        return None, "system"
    if isinstance(actor, str):
        return None, actor[:80]
    return getattr(actor, "id", None), (getattr(actor, "username", None) or str(actor))[:80]


def record_audit(actor, action: str, target, detail: dict | str | None = None) -> AuditEntry:
    """Add one audit row (flushed with the caller's transaction, never committed here)."""
    from flask import has_request_context, request

    actor_id, actor_name = _describe_actor(actor)
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    address = request.remote_addr if has_request_context() else None
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action[:40],
        target=str(target if target is not None else "")[:200],
        detail=detail,
        address=address,
    )
    db.session.add(entry)
    db.session.flush()
    log.info("audit %s by %s on %s", action, actor_name, entry.target)
    return entry


def audit_entries(*, action: str | None = None, actor: str | None = None, target: str | None = None):
    """The query behind the admin page: newest first, filtered by action prefix, actor name or target."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if target:
        query = query.where(AuditEntry.target.contains(target))
    return query
