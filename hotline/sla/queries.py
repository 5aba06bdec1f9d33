"""The supervisor's queue of pending extension (延期) and suspension (挂起) requests: ``/supervision/requests``.

Read through the one scope predicate (``hotline.permissions.in_scope_query``); decided through
``decide_extension`` / ``decide_suspension`` (``hotline.sla.clock``), as on the ticket page and by the API's
``judge_extension`` / ``judge_suspension``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select

from hotline.accounts.models import User
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.permissions import in_scope_query
from hotline.tickets.models import ExtensionRequest, RequestState, SuspensionRequest, Ticket

KINDS: dict[str, type[ExtensionRequest] | type[SuspensionRequest]] = {
    "extension": ExtensionRequest,
    "suspension": SuspensionRequest,
}
# What each kind asks for: the new answer deadline, or the suspension's planned end.
_REQUESTED = {"extension": ExtensionRequest.requested_deadline, "suspension": SuspensionRequest.resume_by}


class PendingRequest(NamedTuple):
    kind: str  # "extension" or "suspension"
    id: int
    created_at: datetime
    reason: str
    requested_at: datetime | None  # the new answer deadline asked for, or the suspension's planned end
    tracking_no: str
    title: str
    version: int
    deadline_at: datetime | None  # the ticket's answer deadline now
    unit: OrgUnit
    requested_by: str | None


def _pending(kind: str, user: User) -> Select[Any]:
    model = KINDS[kind]
    requested = _REQUESTED[kind]
    return in_scope_query(
        select(
            model.id,
            model.created_at,
            model.reason,
            requested,
            Ticket.tracking_no,
            Ticket.title,
            Ticket.version,
            Ticket.answer_deadline_at,
            OrgUnit,
            User.display_name,
        )
        .select_from(model)
        .join(Ticket, Ticket.id == model.ticket_id)
        .join(OrgUnit, OrgUnit.id == model.unit_id)
        .outerjoin(User, User.id == model.requested_by_id)
        .where(model.state == RequestState.PENDING.value),
        user,
    )


def pending_requests(user: User, limit: int = 200) -> list[PendingRequest]:
    """Pending requests on tickets ``user`` may read, the longest waiting first (at most ``limit``)."""
    rows: list[PendingRequest] = []
    for kind, model in KINDS.items():
        query = _pending(kind, user).order_by(model.created_at, model.id).limit(limit)
        rows += [PendingRequest(kind, *row) for row in db.session.execute(query)]
    rows.sort(key=lambda r: (r.created_at, r.kind, r.id))
    return rows[:limit]


def pending_count(user: User) -> int:
    """How many requests wait for ``user``'s decision (the nav's count)."""
    total = 0
    for kind, model in KINDS.items():
        query = _pending(kind, user).with_only_columns(func.count(model.id)).order_by(None)
        total += db.session.execute(query).scalar_one()
    return total
