"""The rules of telephony events: a call's life (ringing → answered → ended), idempotent per call and event;
the operator a call belongs to; what the consoles are told (the screen pop, a call to wrap up); the link between
a call and its ticket; and the wrap-up of calls that ended without one: the operator's own, and those abandoned
in the queue before reaching anyone, which every operator shares (docs/telephony.md, "Wrap-up")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from hotline import permissions
from hotline.accounts.models import EXTENSION, User
from hotline.core.audit import AuditEntry, record_audit
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import NotFound, PermissionDenied, ValidationFailed
from hotline.cti.bus import EVERY_OPERATOR, bus
from hotline.cti.models import Call, CallState, WrapUp
from hotline.extensions import db
from hotline.intake.services import intake_appeal
from hotline.tickets.models import Category, Ticket
from hotline.tickets.services import AppealInput, record_event
from hotline.tickets.validation import normalise_phone
from hotline.tickets.workflow import Appeal, Channel, Status

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


WRAP_UP_EVENT = "wrap_up"  # a message's "event": the console reloads its wrap-up lists (else: a screen pop)


def tell_consoles(call: Call) -> None:
    """After the commit, what open consoles show at once: a call answered at an operator's extension pops up on
    theirs; a call that ended without a ticket joins its operator's wrap-up list; a call abandoned in the queue
    joins (or, once wrapped up, leaves) the list every operator shares."""
    message = {"call_id": call.call_id}
    if call.state == CallState.ANSWERED.value and call.operator_id is not None:
        bus().publish(call.operator_id, message)
    elif call.state == CallState.ENDED.value and call.operator_id is None and call.abandoned:
        bus().publish(EVERY_OPERATOR, {**message, "event": WRAP_UP_EVENT})
    elif call.state == CallState.ENDED.value and call.operator_id is not None and _unwrapped(call):
        bus().publish(call.operator_id, {**message, "event": WRAP_UP_EVENT})


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


# --- wrap-up: calls that ended without a ticket --------------------------------------------------------------


def _unwrapped(call: Call) -> bool:
    return call.ticket_id is None and call.wrap_up is None


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


QUEUE_LIST_SIZE = 50  # the shared list shows this many, newest first; the count says how many more wait


def calls_abandoned_in_queue(hours: float) -> tuple[list[Call], int]:
    """Calls abandoned before reaching any operator (no extension, or one that is nobody's) in the last
    ``hours``, with no ticket and no wrap-up: every operator's to call back. The newest ``QUEUE_LIST_SIZE``, and
    how many there are in all."""
    since = utcnow() - timedelta(hours=hours)
    waiting = (
        Call.operator_id.is_(None),
        Call.state == CallState.ENDED.value,
        Call.answered_at.is_(None),
        Call.ticket_id.is_(None),
        Call.wrap_up.is_(None),
        Call.ended_at >= since,
    )
    calls = list(
        db.session.execute(
            select(Call).where(*waiting).order_by(Call.ended_at.desc(), Call.id.desc()).limit(QUEUE_LIST_SIZE)
        ).scalars()
    )
    total = len(calls) if len(calls) < QUEUE_LIST_SIZE else db.session.scalar(select(func.count()).where(*waiting))
    return calls, int(total or 0)


@dataclass(frozen=True)
class WrapUpBoard:
    """What the console's wrap-up section shows an operator: their own calls, and the queue's shared ones."""

    hours: float
    own: list[Call]
    queue: list[Call]
    queue_total: int


def wrap_up_board(user: User, hours: float) -> WrapUpBoard:
    queue, total = calls_abandoned_in_queue(hours)
    return WrapUpBoard(hours, calls_to_wrap_up(user, hours), queue, total)


def wrapped_up_already(call: Call) -> str:
    """What the operator who came second is told: who wrapped the call up, and how."""
    if call.ticket_id is not None:
        ticket = db.session.get(Ticket, call.ticket_id)
        who = ticket.created_by.display_name if ticket is not None and ticket.created_by is not None else "—"
        number = ticket.tracking_no if ticket is not None else "—"
        return str(
            _l("%(name)s has already recorded this call as ticket %(no)s: nothing was changed.", name=who, no=number)
        )
    entry = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == "call.wrap_up", AuditEntry.target == call.call_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar()
    if entry is not None and call.wrapped_up_at is not None:
        return str(
            _l(
                "%(name)s already wrapped up this call at %(time)s: nothing was changed.",
                name=entry.actor.display_name if entry.actor is not None else entry.actor_name,
                time=to_local(call.wrapped_up_at).strftime("%H:%M"),
            )
        )
    return str(_l("This call has been wrapped up already: nothing was changed."))


def call_to_wrap_up(call_id: str, actor: User, *, lock: bool = False) -> Call:
    """The ended call without a ticket that ``actor`` may wrap up; ``NotFound``, ``PermissionDenied``, or
    ``ValidationFailed`` (field ``call``) when it has not ended or was wrapped up already. ``lock`` holds the
    row until the commit (PostgreSQL): a second operator waits, then hears who was first."""
    find = select(Call).where(Call.call_id == call_id)
    call = db.session.execute(find.with_for_update() if lock else find).scalar()
    if call is None:
        raise NotFound(_l("There is no such call."))
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if call.state != CallState.ENDED.value:
        raise ValidationFailed(_l("This call has not ended yet."), field="call")
    if not _unwrapped(call):
        raise ValidationFailed(wrapped_up_already(call), field="call")
    return call


def _claim(call: Call, **values: object) -> None:
    """Write the wrap-up only if nobody did meanwhile: one conditional UPDATE, so of two operators wrapping up
    one call at once exactly one wins on SQLite as on PostgreSQL; the other's whole request is rolled back."""
    done = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.ticket_id.is_(None), Call.wrap_up.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        db.session.expire(call)
        raise ValidationFailed(wrapped_up_already(call), field="call")
    db.session.expire(call)


@dataclass(frozen=True)
class DirectAnswerDefaults:
    category_id: int | None
    title: str
    answer: str


DEFAULT_CATEGORY_DAYS = 7  # the centre's usual direct-answer category is read over this many days


def direct_answer_category(user: User) -> int | None:
    """The category a direct answer's form starts with: the one of this operator's last direct answer to a
    consultation (in the last 30 days), else the centre's most used for them in the last week, else the
    picker's first. Categories are
    not typed by appeal (no category is "consultation"): what operators chose is the best guess."""
    consultations = (
        Ticket.status == Status.ANSWERED_DIRECTLY.value,
        Ticket.appeal_type == Appeal.CONSULTATION.value,
        Category.active.is_(True),
    )
    now = utcnow()
    own = db.session.scalar(
        select(Ticket.category_id)
        .join(Category, Category.id == Ticket.category_id)
        .where(*consultations, Ticket.created_by_id == user.id, Ticket.created_at >= now - timedelta(days=30))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    if own is not None:
        return int(own)
    usual = db.session.scalar(
        select(Ticket.category_id)
        .join(Category, Category.id == Ticket.category_id)
        .where(*consultations, Ticket.created_at >= now - timedelta(days=DEFAULT_CATEGORY_DAYS))
        .group_by(Ticket.category_id)
        .order_by(func.count().desc(), Ticket.category_id)
        .limit(1)
    )
    if usual is not None:
        return int(usual)
    parent = Category.__table__.alias("parent")
    first = db.session.scalar(
        select(Category.id)
        .join(parent, parent.c.id == Category.parent_id)
        .where(Category.active.is_(True), parent.c.active.is_(True))
        .order_by(parent.c.sort_order, parent.c.code, Category.sort_order, Category.code)
        .limit(1)
    )
    return int(first) if first is not None else None


def direct_answer_defaults(call: Call, user: User) -> DirectAnswerDefaults:
    """What the direct-answer form holds when it opens, so that saving it is the second click: the category
    (``direct_answer_category``), a title standing for the question, and the stock answer, all editable."""
    started = to_local(call.started_at or call.ended_at or call.created_at)
    title = str(_l("Consultation by phone, %(time)s", time=started.strftime("%m-%d %H:%M")))
    return DirectAnswerDefaults(direct_answer_category(user), title, str(_l("Answered on the phone.")))


def answer_call_directly(call: Call, actor: User, *, category_id: int | None, title: str, answer: str) -> Ticket:
    """Record a call as a consultation answered directly (直接答复): the same intake and ``answer_directly``
    action as the console, the call linked to the ticket. The title stands for the question; ``answer`` is the
    answer the operator gave: on the call, or on calling an abandoned call back (then the call is also marked
    called back). Once per call: a second operator's attempt is refused and nothing of it is kept."""
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if not (answer or "").strip():
        raise ValidationFailed(_l("This field is required."), field="answer")
    appeal = AppealInput(
        appeal_type=Appeal.CONSULTATION.value,
        title=title,
        body=title,
        citizen_phone=call.caller,
        channel=Channel.PHONE.value,
        category_id=category_id,
    )
    ticket = intake_appeal(appeal, actor, "answer_directly", note=answer.strip())
    abandoned = call.abandoned
    if abandoned:
        _claim(call, ticket_id=ticket.id, wrap_up=WrapUp.CALLED_BACK.value, wrapped_up_at=utcnow())
        record_audit(
            actor, "call.wrap_up", call.call_id, {"outcome": WrapUp.CALLED_BACK.value, "ticket": ticket.tracking_no}
        )
    else:
        _claim(call, ticket_id=ticket.id)
    db.session.flush()
    return ticket


def close_abandoned_call(call: Call, actor: User, outcome: str) -> Call:
    """Mark an abandoned call ``called_back`` or ``dismissed``: it leaves the wrap-up list (audited). Once per
    call: of two operators at once, the second is told who was first and nothing changes."""
    if not permissions.can_wrap_up_call(actor, call):
        raise PermissionDenied(_l("Only the operator the call rang at may wrap it up."))
    if outcome not in {w.value for w in WrapUp}:
        raise ValidationFailed(_l("Choose called back or dismissed."), field="outcome")
    if not call.abandoned:
        raise ValidationFailed(_l("An answered call is recorded as a ticket, not dismissed."), field="outcome")
    _claim(call, wrap_up=outcome, wrapped_up_at=utcnow())
    record_audit(actor, "call.wrap_up", call.call_id, {"outcome": outcome})
    db.session.flush()
    return call
