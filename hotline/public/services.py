"""What the citizen's tracking page tells about an appeal, and recovering lost tracking numbers by SMS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from hotline.core.clock import to_local, utcnow
from hotline.extensions import db
from hotline.sla.deadlines import deadline_after
from hotline.sla.policy import policy_for
from hotline.tickets.models import Attachment, Reply, Ticket
from hotline.tickets.workflow import Status

# Not passed to a unit yet: the answer deadline starts at dispatch, so the date is an estimate counted from now.
NOT_DISPATCHED = frozenset({Status.PENDING_REVIEW, Status.PENDING_DISPATCH})
# A unit works on it against its answer deadline (the policy's, an extension's or a redo's).
AT_A_UNIT = frozenset({Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURN_REQUESTED, Status.REPLIED})
RECOVERY_KEEP = 5  # tracking numbers sent by "forgot my tracking number": the most recent ones


@dataclass(frozen=True)
class ExpectedAnswer:
    day: date
    estimated: bool  # not dispatched yet (counted from today) or a year whose holidays are not published yet


@dataclass(frozen=True)
class CitizenView:
    photos: list[Attachment]  # what the citizen sent (staff uploads are not shown)
    expected: ExpectedAnswer | None  # None: answered, closed, suspended or not handled by a unit
    suspended: bool
    redo: bool  # rated unsatisfied: redone against a new date
    not_accepted: frozenset[int]  # ids of released answers the citizen did not accept


def expected_answer(ticket: Ticket, now: datetime | None = None) -> ExpectedAnswer | None:
    """When the citizen may expect the answer, from the SLA policy (hotline.sla): the running answer deadline
    once a unit has it; before dispatch, the policy's answer limit counted from now, marked as an estimate."""
    status = Status(ticket.status)
    if status in NOT_DISPATCHED:
        policy = policy_for(ticket.appeal_type, ticket.urgency)
        due = deadline_after(now or utcnow(), policy["answer_limit"], policy["answer_unit"])
        return ExpectedAnswer(to_local(due.at).date(), estimated=True)
    if status in AT_A_UNIT and ticket.answer_deadline_at is not None:
        return ExpectedAnswer(to_local(ticket.answer_deadline_at).date(), estimated=bool(ticket.deadline_provisional))
    return None


def citizen_view(ticket: Ticket, answers: list[Reply]) -> CitizenView:
    last_redo = max((e.created_at for e in ticket.events if e.action == "rate_unsatisfied"), default=None)
    rejected = frozenset(
        a.id for a in answers if last_redo is not None and a.released_at is not None and a.released_at <= last_redo
    )
    return CitizenView(
        photos=[a for a in ticket.attachments if a.uploaded_by_id is None],
        expected=expected_answer(ticket),
        suspended=ticket.status == Status.SUSPENDED.value,
        redo=last_redo is not None and Status(ticket.status) in AT_A_UNIT,
        not_accepted=rejected,
    )


def citizen_photo(ticket: Ticket, attachment_id: int) -> Attachment | None:
    return next((a for a in ticket.attachments if a.id == attachment_id and a.uploaded_by_id is None), None)


def send_tracking_numbers(phone: str) -> bool:
    """Queue one SMS to ``phone`` with the tracking numbers of its most recent appeals, if it has any. The
    caller answers the same either way: whether a phone has appeals is never shown on the page."""
    from hotline.notify.services import queue_notification

    numbers = list(
        db.session.execute(
            select(Ticket.tracking_no)
            .where(Ticket.citizen_phone == phone)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(RECOVERY_KEEP)
        ).scalars()
    )
    if not numbers:
        return False
    queue_notification("sms", phone, "tracking_numbers", payload={"numbers": ", ".join(numbers)})
    return True
