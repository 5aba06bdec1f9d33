"""The rules of telephony events: a call's life (ringing → answered → ended), idempotent per call and event;
the operator an answered call belongs to; the screen pop; and the link between a call and its ticket."""

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
from hotline.core.clock import utcnow
from hotline.core.errors import NotFound, PermissionDenied, ValidationFailed
from hotline.cti.bus import bus
from hotline.cti.models import Call, CallState
from hotline.extensions import db
from hotline.tickets.models import Ticket
from hotline.tickets.services import record_event
from hotline.tickets.validation import normalise_phone

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
    if event.event == "answered":
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
