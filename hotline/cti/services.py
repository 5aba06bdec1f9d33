"""The rules of telephony events: a call's life (ringing → answered → ended), idempotent per call and event;
the operator a call belongs to; the screen pop; the link between a call and its ticket; and the wrap-up of
the operator's calls that ended without one (docs/telephony.md, "Wrap-up")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline import permissions
from hotline.accounts.models import EXTENSION, User
from hotline.core.audit import record_audit
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import NotFound, PermissionDenied, ValidationFailed
from hotline.cti.bus import bus
from hotline.cti.models import Call, CallState, WrapUp
from hotline.extensions import db
from hotline.intake.services import intake_appeal
from hotline.tickets.models import Ticket
from hotline.tickets.services import AppealInput, record_event
from hotline.tickets.validation import normalise_phone
from hotline.tickets.workflow import Appeal, Channel

EVENTS = ("ringing", "answered", "hangup")
CALL_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
# E.164 (+86…, or another country's +…) or a Chinese local number: a mobile, a landline with or without its area
# code, a short service number (110, 12345).
CALLER = re.compile(r"^(\+\d{6,15}|\d{3,20})$")
_FIELD = {"ringing": "ringing_at", "answered": "answered_at", "hangup": "ended_at"}


@dataclass(frozen=True)
class CallEvent:
    event: str
    call_id: str
    caller: str | None
    agent: str | None
    at: datetime  # naive UTC
    recording_url: str | None = None


def normalise_caller(number: str | None) -> str:
    """The number as operators' typing is normalised (``normalise_phone``: no spaces, no +86), dashes dropped."""
    return normalise_phone(number).replace("-", "")


def check_event(event: CallEvent) -> CallEvent:
    """Raise ``ValidationFailed`` naming the first wrong field; return the event with its caller normalised."""
    if event.event not in EVENTS:
        raise ValidationFailed(_l("Unknown event: use ringing, answered or hangup."), field="event")
    if not CALL_ID.match(event.call_id or ""):
        raise ValidationFailed(_l("A call id of 1 to 64 letters, digits or . _ : @ - is required."), field="call_id")
    caller = normalise_caller(event.caller) if event.caller else None
    if event.event != "hangup" and not caller:
        raise ValidationFailed(_l("The caller's number is required."), field="caller")
    if caller and not CALLER.match(caller):
        raise ValidationFailed(_l("The caller's number is not a telephone number."), field="caller")
    if event.event == "answered" and not event.agent:
        raise ValidationFailed(_l("The answering extension is required."), field="agent")
    if event.agent and not EXTENSION.match(event.agent):
        raise ValidationFailed(_l("An extension is 1 to 16 digits or letters."), field="agent")
    if event.recording_url is not None:
        if event.event != "hangup":
            raise ValidationFailed(_l("A recording comes with the hangup event."), field="recording_url")
        if not re.match(r"^https?://\S{1,490}$", event.recording_url):
            raise ValidationFailed(_l("The recording link must be an http(s) address."), field="recording_url")
    return CallEvent(event.event, event.call_id, caller, event.agent, event.at, event.recording_url)


def operator_at(extension: str | None) -> User | None:
    """The active operator whose extension this is."""
    if not extension:
        return None
    user = db.session.execute(select(User).where(User.extension == extension, User.active.is_(True))).scalar()
    return user if user is not None and permissions.can_register_calls(user) else None


def record_call_event(event: CallEvent, api_key_id: int | None = None) -> tuple[Call, bool]:
    """Store one event of a call; ``(call, duplicate)``. The same event of the same call again changes nothing
    (the telephony retries). Events may come out of order: each sets its own time, the state is the latest."""
    event = check_event(event)
    find = select(Call).where(Call.call_id == event.call_id).with_for_update()
    call = db.session.execute(find).scalar()
    if call is None:
        try:
            with db.session.begin_nested():  # two first events of one call at once: one inserts, one waits
                call = Call(
                    call_id=event.call_id, caller=event.caller or "", api_key_id=api_key_id, created_at=utcnow()
                )
                db.session.add(call)
        except IntegrityError:
            call = db.session.execute(find).scalar_one()
    field = _FIELD[event.event]
    if getattr(call, field) is not None:
        return call, True
    setattr(call, field, event.at)
    if event.caller and not call.caller:
        call.caller = event.caller
    # The extension that answered owns the call; before (or without) an answer, the one it rang at does, so
    # a call abandoned while ringing there is on that operator's wrap-up list.
    if event.event == "answered" or (event.event == "ringing" and event.agent and call.answered_at is None):
        call.agent = event.agent
        operator = operator_at(event.agent)
        call.operator_id = operator.id if operator else None
    if event.recording_url:
        call.recording_url = event.recording_url
    call.state = (
        CallState.ENDED if call.ended_at else CallState.ANSWERED if call.answered_at else CallState.RINGING
    ).value
    db.session.flush()
    return call, False


def screen_pop(call: Call) -> None:
    """Tell the answering operator's open consoles (after the commit: they load the call at once)."""
    if call.operator_id is not None and call.state == CallState.ANSWERED.value:
        bus().publish(call.operator_id, {"call_id": call.call_id})


def call_for_operator(call_id: str, user: User) -> Call | None:
    """A call the user answered, or None: another operator's calls are not theirs to see."""
    call = db.session.execute(select(Call).where(Call.call_id == call_id)).scalar()
    return call if call is not None and call.operator_id == user.id else None


def waiting_call(user: User, within_seconds: int = 60) -> Call | None:
    """The call this operator answered in the last minute and has not registered yet: a console that
    (re)connects is given it, so a screen pop sent while it was reconnecting is not lost."""
    since = utcnow() - timedelta(seconds=within_seconds)
    return db.session.execute(
        select(Call)
        .where(
            Call.operator_id == user.id,
            Call.state == CallState.ANSWERED.value,
            Call.ticket_id.is_(None),
            Call.answered_at >= since,
        )
        .order_by(Call.answered_at.desc())
        .limit(1)
    ).scalar()


def link_to_ticket(call_id: str | None, ticket: Ticket, user: User) -> Call | None:
    """The call the operator registered ``ticket`` from: kept on the ticket. A call that is not theirs, or is
    already linked, is left alone (registering the appeal never fails over it)."""
    call = call_for_operator(call_id, user) if call_id else None
    if call is None or call.ticket_id is not None:
        return None
    call.ticket_id = ticket.id
    db.session.flush()
    return call


def recording_for(ticket: Ticket, call_pk: int, actor: User) -> str:
    """The link to a call's recording, for staff who may see the caller's contact; every play is recorded
    (history and audit), as a full phone number is."""
    if not permissions.can_reveal_contact(actor, ticket):
        raise PermissionDenied(_l("Only hotline staff may see a caller's contact data."))
    call = db.session.get(Call, call_pk)
    if call is None or call.ticket_id != ticket.id or not call.recording_url:
        raise NotFound(_l("This ticket has no such recording."))
    record_event(ticket, "play_recording", actor, data={"call": call.call_id})
    record_audit(actor, "call.recording", ticket.tracking_no, {"call": call.call_id})
    return call.recording_url


def calls_of(ticket: Ticket) -> list[Call]:
    return list(db.session.execute(select(Call).where(Call.ticket_id == ticket.id).order_by(Call.id)).scalars())


# --- wrap-up: the operator's calls that ended without a ticket ----------------------------------------------


def calls_to_wrap_up(user: User, hours: float) -> list[Call]:
    """The user's calls that ended in the last ``hours`` with no ticket and no wrap-up, newest first: calls
    answered by voice (to record as a direct answer) and calls abandoned at their extension (to call back)."""
    since = utcnow() - timedelta(hours=hours)
    return list(
        db.session.execute(
            select(Call)
            .where(
                Call.operator_id == user.id,
                Call.state == CallState.ENDED.value,
                Call.ticket_id.is_(None),
                Call.wrap_up.is_(None),
                Call.ended_at >= since,
            )
            .order_by(Call.ended_at.desc(), Call.id.desc())
        ).scalars()
    )


def call_to_wrap_up(call_id: str, actor: User) -> Call:
    """The ended call without a ticket that ``actor`` may wrap up; ``NotFound`` or ``PermissionDenied``."""
    call = db.session.execute(select(Call).where(Call.call_id == call_id)).scalar()
    if call is None:
        raise NotFound(_l("There is no such call."))
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if call.state != CallState.ENDED.value or call.ticket_id is not None or call.wrap_up is not None:
        raise ValidationFailed(_l("This call has been wrapped up already, or has not ended."), field="call")
    return call


def direct_answer_title(call: Call) -> str:
    """The title a direct answer's form starts with: the operator usually keeps it."""
    started = to_local(call.started_at or call.ended_at or call.created_at)
    return str(_l("Consultation by phone, %(time)s", time=started.strftime("%m-%d %H:%M")))


def answer_call_directly(call: Call, actor: User, *, category_id: int | None, title: str, answer: str) -> Ticket:
    """Record a call answered by voice as a consultation answered directly (直接答复): the same intake and
    ``answer_directly`` action as the console, the call linked to the ticket. The title stands for the
    question; ``answer`` is the answer the operator gave."""
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if call.abandoned:
        raise ValidationFailed(_l("Nobody answered this call: it cannot have been answered directly."), field="call")
    appeal = AppealInput(
        appeal_type=Appeal.CONSULTATION.value,
        title=title,
        body=title,
        citizen_phone=call.caller,
        channel=Channel.PHONE.value,
        category_id=category_id,
    )
    ticket = intake_appeal(appeal, actor, "answer_directly", note=answer)
    link_to_ticket(call.call_id, ticket, actor)
    return ticket


def close_abandoned_call(call: Call, actor: User, outcome: str) -> Call:
    """Mark an abandoned call ``called_back`` or ``dismissed``: it leaves the wrap-up list (audited)."""
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if outcome not in {w.value for w in WrapUp}:
        raise ValidationFailed(_l("Choose called back or dismissed."), field="outcome")
    if not call.abandoned:
        raise ValidationFailed(_l("An answered call is recorded as a ticket, not dismissed."), field="outcome")
    call.wrap_up, call.wrapped_up_at = outcome, utcnow()
    record_audit(actor, "call.wrap_up", call.call_id, {"outcome": outcome})
    db.session.flush()
    return call
