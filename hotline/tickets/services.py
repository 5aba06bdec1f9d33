"""The rules of a ticket's life. ``apply_transition`` is the only code that sets a status.

Every service takes an explicit actor, writes history and flushes; the caller
(a request or a task) commits once, or rolls back on a ``DomainError``.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    Column,
    ColumnDefault,
    Executable,
    Select,
    bindparam,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.orm import MANYTOONE, Mapper, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.schema import CallableColumnDefault

from hotline import permissions
from hotline.accounts.models import User
from hotline.core.clock import utcnow
from hotline.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.core.models import table_of
from hotline.core.text import strip_control
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.sla import deadlines
from hotline.tickets import counts
from hotline.tickets.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    Category,
    EventActorKind,
    ExtensionRequest,
    Reply,
    ReplyState,
    SuspensionRequest,
    Ticket,
    TicketEvent,
    WarningLevel,
)
from hotline.tickets.tracking import next_tracking_no
from hotline.tickets.validation import validate_appeal
from hotline.tickets.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Actor,
    Channel,
    RatingChannel,
    Satisfaction,
    Status,
    Transition,
    Urgency,
    transition_for,
)

if TYPE_CHECKING:
    from hotline.sla.models import SupervisionOrder, Urging

# --- actors -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenActor:
    """The appeal's own citizen, proven by tracking number + phone on the track page, by the signed link of the
    release SMS (``via`` link) or by replying from the appeal's phone (``via`` sms)."""

    phone: str
    via: str = RatingChannel.WEB.value
    kind = EventActorKind.CITIZEN


@dataclass(frozen=True)
class _Anonymous:
    kind: EventActorKind


PUBLIC = _Anonymous(EventActorKind.PUBLIC)
SYSTEM = _Anonymous(EventActorKind.SYSTEM)
AnyActor = User | CitizenActor | _Anonymous

# Actions the citizen sees on the track page's timeline (never with staff names or notes).
PUBLIC_ACTIONS = frozenset(
    {
        "submit",
        "register",
        "accept",
        "answer_directly",
        "refuse",
        "transfer_emergency",
        "dispatch",
        "merge",
        "sign",
        "approve_reply",
        "rate_satisfied",
        "rate_unsatisfied",
        "close_unreached",
        "rate_merged",
    }
)


# --- intake ------------------------------------------------------------------------------------------------


@dataclass
class AppealInput:
    """What any channel hands to intake (the five elements of 受理 and the caller)."""

    appeal_type: str
    title: str
    body: str
    citizen_phone: str
    channel: str = Channel.PHONE.value
    urgency: str = Urgency.NORMAL.value
    category_id: int | None = None
    address: str | None = None
    district_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    citizen_name: str | None = None
    confidential: bool = False
    allow_publish: bool = False
    citizen_user_id: int | None = None


INTAKE_OUTCOMES = ("submit", "register", "answer_directly", "refuse", "transfer_emergency")


# The hotline centre is reference data: read once a minute per process, not once per intake. A change to
# the org tree made in this process forgets it at once (the tests build a new tree for every test).
_CENTRE_SECONDS = 60.0
_centre_ids: dict[Engine, tuple[int, float]] = {}  # engine -> (id, read at)


def hotline_centre_id() -> int:
    engine = db.engine
    cached = _centre_ids.get(engine)
    if cached is not None and _time.monotonic() - cached[1] < _CENTRE_SECONDS:
        return cached[0]
    unit_id = db.session.execute(
        select(OrgUnit.id).filter_by(kind=UnitKind.HOTLINE_CENTRE.value).order_by(OrgUnit.id).limit(1)
    ).scalar()
    if unit_id is None:
        raise NotFound(_l("No hotline centre is configured."))
    _centre_ids[engine] = (unit_id, _time.monotonic())
    return unit_id


@event.listens_for(OrgUnit, "after_insert")
@event.listens_for(OrgUnit, "after_update")
@event.listens_for(OrgUnit, "after_delete")
def _forget_centre(mapper: Mapper[OrgUnit], connection: Connection, unit: OrgUnit) -> None:
    _centre_ids.clear()


def register_ticket(
    appeal: AppealInput, actor: AnyActor, outcome: str = "register", *, note: str | None = None
) -> Ticket:
    """Record an appeal from any channel: the one door into the queue."""
    if outcome not in INTAKE_OUTCOMES:
        raise ValidationFailed(_l("Unknown intake outcome."), field="outcome")
    validate_appeal(appeal)
    note = strip_control(note)
    now = utcnow()
    centre_id = hotline_centre_id()
    ticket = Ticket(**vars(appeal), status=None, intake_unit_id=centre_id, created_at=now)
    if isinstance(actor, User):  # staff are authorised by the centre's place in the org tree
        centre = db.session.get(OrgUnit, centre_id)
        if centre is None:  # removed since its id was cached
            raise NotFound(_l("No hotline centre is configured."))
        ticket.intake_unit, ticket.created_by = centre, actor
    ticket.tracking_no = next_tracking_no(now)
    return apply_transition(ticket, outcome, actor, note=note)


# --- the transition engine ---------------------------------------------------------------------------------


def apply_transition(
    ticket: Ticket,
    action: str,
    actor: AnyActor,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    **params: Any,
) -> Ticket:
    """Apply one workflow action: check it, run its effects, record it, recompute deadlines.

    Raises ``InvalidTransition``, ``PermissionDenied``, ``ValidationFailed`` or ``Conflict``;
    the caller must then roll back (nothing it flushed is kept).
    """
    transition = transition_for(action)
    if transition is None:
        raise InvalidTransition(_l("Unknown action: %(action)s", action=action))
    current = Status(ticket.status) if ticket.status else None
    if not transition.allows(current):
        raise InvalidTransition(
            _l(
                "“%(action)s” is not possible while the ticket is “%(status)s”.",
                action=action,
                status=current.value if current else "new",
            )
        )
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict()
    _authorise(transition, ticket, actor)
    if transition.reason_required and not (note or "").strip():
        raise ValidationFailed(_l("A reason is required."), field="note")

    now = utcnow()
    data = _EFFECTS.get(action, _no_effect)(ticket, actor, now, **params) or {}
    target = transition.target or current
    assert target is not None, "the transition table gives every action on a new ticket a target"
    ticket.status = target.value
    ticket.updated_at = now
    flag_modified(ticket, "updated_at")  # every action bumps the version, self-loops too
    if target not in OPEN_STATUSES and ticket.closed_at is None:
        ticket.closed_at = now
    deadlines.refresh_next_deadline(ticket)  # hotline.sla owns the ladder
    event = _event_values(action, actor, from_status=current, to_status=target, note=note, data=data, at=now)
    if ticket.id is None:
        _insert_new(ticket, event)
    else:
        db.session.add(TicketEvent(ticket=ticket, **event))
        try:
            db.session.flush()
        except StaleDataError as exc:
            raise Conflict() from exc
    if target in FINAL_STATUSES and current not in FINAL_STATUSES:
        counts.ticket_became_final(ticket)
    return ticket


def record_event(
    ticket: Ticket,
    action: str,
    actor: AnyActor,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    note: str | None = None,
    data: dict[str, object] | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        **_event_values(action, actor, from_status=from_status, to_status=to_status, note=note, data=data, at=at),
    )
    db.session.add(event)
    return event


def _event_values(
    action: str,
    actor: AnyActor,
    *,
    from_status: Status | None,
    to_status: Status | None,
    note: str | None,
    data: dict[str, object] | None,
    at: datetime | None,
) -> dict[str, Any]:
    user = actor if isinstance(actor, User) else None
    return dict(
        action=action,
        note=note,
        data=data or None,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        actor_kind=(EventActorKind.USER if user else actor.kind).value,
        actor_id=user.id if user else None,
        unit_id=user.org_unit_id if user else None,
        public=action in PUBLIC_ACTIONS,
        created_at=at or utcnow(),
    )


# --- a new ticket's rows -----------------------------------------------------------------------------------

# What other packages add to every new ticket, in the same transaction, as their before_flush listeners do for
# rows a flush writes: ``hook(ticket, first_event)``, called with the ticket's id known and before its first
# event (a dict of its column values, which the hook may change) is written. Registered with ``on_new_ticket``:
# the search index row (hotline.search), the knowledge articles an answer quotes (hotline.knowledge).
_NEW_TICKET_HOOKS: list[Callable[[Ticket, dict[str, Any]], None]] = []


def on_new_ticket(hook: Callable[[Ticket, dict[str, Any]], None]) -> Callable[[Ticket, dict[str, Any]], None]:
    _NEW_TICKET_HOOKS.append(hook)
    return hook


def _insert_new(ticket: Ticket, event: dict[str, Any]) -> None:
    """Write a new ticket and its first event with plain INSERTs, then attach the object as if loaded.

    Intake is the busiest write, and a flush of a new ticket (a unit of work planned over its score of
    relationships) cost more CPU than the statements themselves (bench/README.md, intake). The object ends
    up as a flush would leave it: its defaults set, its foreign keys taken from the objects it was given, its
    id, persistent in the session, nothing left to load.
    """
    mapper = inspect(Ticket)
    for rel in mapper.relationships:  # a flush would copy these from the related objects
        if rel.direction is MANYTOONE and ticket.__dict__.get(rel.key) is not None:
            for local, remote in rel.local_remote_pairs or ():
                remote_key = rel.mapper.get_property_by_column(remote).key
                setattr(ticket, mapper.get_property_by_column(local).key, getattr(ticket.__dict__[rel.key], remote_key))
    values: dict[str, Any] = {}
    for column in mapper.columns:
        key = mapper.get_property_by_column(column).key
        if column.primary_key:
            continue
        if key not in ticket.__dict__:  # the Python-side default a flush would apply, or NULL
            setattr(ticket, key, _python_default(column))
        values[key] = ticket.__dict__[key]
    session = db.session()
    result = session.execute(insert(table_of(Ticket)), values)
    primary_key = result.inserted_primary_key if isinstance(result, CursorResult) else None
    assert primary_key is not None, "a Core INSERT of one row reports its primary key"
    ticket.id = primary_key[0]
    make_transient_to_detached(ticket)
    session.add(ticket)
    event = {**event, "ticket_id": ticket.id}
    for hook in _NEW_TICKET_HOOKS:
        hook(ticket, event)
    session.execute(insert(table_of(TicketEvent)), event)


def _python_default(column: Column[Any]) -> Any:
    """The value a flush gives a column the object left unset: its Python-side default, or NULL."""
    default = column.default
    if default is None:
        return None
    if isinstance(default, CallableColumnDefault):
        return default.arg(None)  # type: ignore[arg-type]  # our defaults take no context (utcnow, ...)
    if isinstance(default, ColumnDefault):
        return default.arg
    raise TypeError(f"{column.key}: a {type(default).__name__} default is not applied by _insert_new")


def _authorise(transition: Transition, ticket: Ticket, actor: AnyActor) -> None:
    if isinstance(actor, User):
        refusal = permissions.act_refusal(actor, ticket, transition)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return
    if isinstance(actor, CitizenActor):
        if Actor.CITIZEN.value in transition.actors and actor.phone == ticket.citizen_phone:
            return
        raise PermissionDenied()
    if actor.kind.value in transition.actors:
        return
    raise PermissionDenied()


# --- effects of each action --------------------------------------------------------------------------------


class _Effect(Protocol):
    """An action's own changes to the ticket; what it returns is its event's data."""

    def __call__(self, ticket: Ticket, actor: AnyActor, now: datetime, **params: Any) -> dict[str, object] | None: ...


def _no_effect(ticket: Ticket, actor: AnyActor, now: datetime, **params: object) -> None:
    return None


def lead_assignment_for(ticket: Ticket, actor: AnyActor) -> Assignment:
    """The deepest active lead assignment the acting handler's scope contains."""
    candidates = [a for a in ticket.active_assignments() if a.role == AssignmentRole.LEAD.value]
    if isinstance(actor, User):
        candidates = [a for a in candidates if permissions.handles_unit(actor, a.unit)]
    if not candidates:
        raise PermissionDenied(_l("This ticket is outside your units."))
    return max(candidates, key=lambda a: a.unit.depth)


def _acting_assignment(ticket: Ticket, actor: AnyActor, now: datetime) -> Assignment:
    """The acting unit's assignment; a unit the work was passed down to signs for it by acting on it."""
    assignment = lead_assignment_for(ticket, actor)
    if assignment.status == AssignmentStatus.DISPATCHED.value:
        assignment.status, assignment.signed_at = AssignmentStatus.SIGNED.value, now
    return assignment


def _dispatch(
    ticket: Ticket,
    actor: AnyActor,
    now: datetime,
    *,
    lead_unit: OrgUnit | None = None,
    assist_units: Iterable[OrgUnit] = (),
    instructions: str | None = None,
    **_: object,
) -> dict[str, object]:
    if lead_unit is None:
        raise ValidationFailed(_l("Choose a lead unit."), field="lead_unit")
    assist_units = [u for u in assist_units if u.id != lead_unit.id]
    for unit, field in [(lead_unit, "lead_unit"), *((u, "assist_units") for u in assist_units)]:
        if not unit.active or unit.kind in (UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value):
            raise ValidationFailed(_l("%(unit)s cannot take tickets.", unit=unit.name), field=field)
    deadlines.start(ticket, now)
    ticket.warning_level = WarningLevel.NONE.value
    by = actor if isinstance(actor, User) else None
    for unit, role in [(lead_unit, AssignmentRole.LEAD), *((u, AssignmentRole.ASSIST) for u in assist_units)]:
        ticket.assignments.append(
            Assignment(
                unit=unit,
                role=role.value,
                dispatched_by_id=by and by.id,
                dispatched_at=now,
                sign_deadline_at=ticket.sign_deadline_at,
                answer_deadline_at=ticket.answer_deadline_at,
                instructions=instructions,
            )
        )
    ticket.lead_unit = lead_unit
    ticket.dispatch_count += 1
    ticket.dispatched_at = now
    return {"lead_unit": lead_unit.code, "assist_units": [u.code for u in assist_units]}


def _merge(
    ticket: Ticket, actor: AnyActor, now: datetime, *, master: Ticket | None = None, **_: object
) -> dict[str, object]:
    from hotline.permissions import can_read

    # The target is named by its number: it needs the same scope as reading it (another district's: not found).
    if master is None or master.id == ticket.id or (isinstance(actor, User) and not can_read(actor, master)):
        raise ValidationFailed(_l("Choose the ticket to merge into."), field="master")
    if Status(master.status) not in OPEN_STATUSES or master.merged_into_id:
        raise ValidationFailed(_l("Tickets can only be merged into an open ticket."), field="master")
    ticket.merged_into = master
    record_event(master, "merged_in", actor, note=ticket.tracking_no, data={"ticket": ticket.tracking_no}, at=now)
    from hotline.notify.services import queue_notification

    queue_notification(
        "sms",
        ticket.citizen_phone,
        "ticket_merged",
        ticket=ticket,
        payload={"tracking_no": ticket.tracking_no, "master": master.tracking_no},
    )
    return {"master": master.tracking_no}


def _sign(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> dict[str, object]:
    assignment = lead_assignment_for(ticket, actor)
    assignment.status, assignment.signed_at = AssignmentStatus.SIGNED.value, now
    return {"assignment": assignment.id}


def _approve_return(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> None:
    for a in ticket.active_assignments():
        a.status = AssignmentStatus.RETURNED.value
    ticket.lead_unit = None
    ticket.sign_deadline_at = ticket.answer_deadline_at = None


def _reject_return(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> None:
    for a in ticket.active_assignments():  # the dispatcher designates the unit: it holds the work now
        if a.role == AssignmentRole.LEAD.value and a.signed_at is None:
            a.status, a.signed_at = AssignmentStatus.SIGNED.value, now


def _pass_down(
    ticket: Ticket,
    actor: AnyActor,
    now: datetime,
    *,
    unit: OrgUnit | None = None,
    instructions: str | None = None,
    **_: object,
) -> dict[str, object]:
    parent = _acting_assignment(ticket, actor, now)
    if unit is None or not can_pass_down_to(parent.unit, unit):
        raise ValidationFailed(_l("Choose a unit below your own."), field="unit")
    if any(a.unit_id == unit.id for a in ticket.active_assignments()):
        raise ValidationFailed(_l("The ticket is already at that unit."), field="unit")
    child = Assignment(
        unit=unit,
        role=AssignmentRole.LEAD.value,
        parent=parent,
        dispatched_at=now,
        dispatched_by_id=actor.id if isinstance(actor, User) else None,
        sign_deadline_at=parent.sign_deadline_at,
        answer_deadline_at=parent.answer_deadline_at,
        instructions=instructions,
    )
    ticket.assignments.append(child)
    return {"from_unit": parent.unit.code, "to_unit": unit.code}


def _suspend(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> dict[str, object]:
    ticket.suspended_at = now
    return {"answer_deadline": ticket.answer_deadline_at.isoformat() if ticket.answer_deadline_at else None}


def _resume(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> dict[str, object]:
    paused_seconds = deadlines.resume(ticket, now)  # suspended time does not count
    return {
        "paused_seconds": paused_seconds,
        "answer_deadline": ticket.answer_deadline_at.isoformat() if ticket.answer_deadline_at else None,
    }


def _reply(
    ticket: Ticket, actor: AnyActor, now: datetime, *, body: str | None = None, **_: object
) -> dict[str, object]:
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(_l("The answer text is required."), field="body")
    assignment = _acting_assignment(ticket, actor, now)
    top = assignment
    while True:  # the answer goes up the whole pass-down chain; the top unit stays accountable
        top.status, top.answered_at = AssignmentStatus.ANSWERED.value, now
        if top.parent is None:
            break
        top = top.parent
    reply = Reply(
        ticket=ticket,
        assignment_id=top.id,
        unit=assignment.unit,
        body=text,
        author_id=actor.id if isinstance(actor, User) else None,
        submitted_at=now,
    )
    db.session.add(reply)
    return {"unit": assignment.unit.code}


def _pending_reply(ticket: Ticket) -> Reply:
    reply = next((r for r in reversed(ticket.replies) if r.state == ReplyState.SUBMITTED.value), None)
    if reply is None:
        raise InvalidTransition(_l("There is no answer waiting for review."))
    return reply


def _approve_reply(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> dict[str, object]:
    reply = _pending_reply(ticket)
    reply.state, reply.reviewed_at, reply.released_at = ReplyState.APPROVED.value, now, now
    reply.reviewed_by_id = actor.id if isinstance(actor, User) else None
    ticket.answered_at = now
    from hotline.notify.services import queue_notification

    # The caller of every appeal merged into this one hears of the answer too, under their own number: that
    # is the number and phone they look it up with. One message per phone.
    told = set()
    for caller in [ticket, *merged_callers(ticket)]:
        if caller.citizen_phone and caller.citizen_phone not in told:
            told.add(caller.citizen_phone)
            template, payload = _release_sms(caller, reply)
            queue_notification("sms", caller.citizen_phone, template, ticket=caller, payload=payload)
    return {"reply": reply.id, "callers": len(told)}


def _release_sms(caller: Ticket, reply: Reply) -> tuple[str, dict[str, object]]:
    """The release SMS: it invites a rating (reply 1 / 2 / 3 or the signed link) unless the phone opted out of
    non-essential SMS, or no public address is known to link to."""
    from hotline.sms import services as sms

    payload: dict[str, object] = {"tracking_no": caller.tracking_no}
    with db.session.no_autoflush:  # read in the middle of the action: its changes flush once, at its end
        opted_out = sms.is_opted_out(caller.citizen_phone)
    url = None if opted_out else sms.rate_link_url(caller.id, reply.id)
    if url is None:
        return "reply_released", payload
    return "reply_released_rate", {**payload, "rate_url": url}


def _send_back_reply(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> dict[str, object]:
    reply = _pending_reply(ticket)
    reply.state, reply.reviewed_at = ReplyState.SENT_BACK.value, now
    reply.reviewed_by_id = actor.id if isinstance(actor, User) else None
    _reopen_assignments(ticket)
    return {"reply": reply.id}


def _reopen_assignments(ticket: Ticket) -> None:
    for a in ticket.active_assignments():
        if a.status == AssignmentStatus.ANSWERED.value:
            a.status = AssignmentStatus.SIGNED.value


def rating_channel(actor: AnyActor) -> str:
    """How a rating arrived: the citizen's own door (page, link, SMS reply) or staff recording a callback."""
    return actor.via if isinstance(actor, CitizenActor) else RatingChannel.PHONE.value


def _rate(
    ticket: Ticket,
    actor: AnyActor,
    now: datetime,
    *,
    satisfaction: str | None = None,
    comment: str | None = None,
    **_: object,
) -> dict[str, object]:
    allowed = {Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value}
    if satisfaction not in allowed:
        raise ValidationFailed(_l("Choose satisfied or basically satisfied."), field="satisfaction")
    ticket.satisfaction, ticket.satisfaction_comment, ticket.rated_at = satisfaction, comment, now
    ticket.rated_via = rating_channel(actor)
    return {"satisfaction": satisfaction}


def _rate_unsatisfied(
    ticket: Ticket, actor: AnyActor, now: datetime, *, comment: str | None = None, **_: object
) -> dict[str, object]:
    ticket.satisfaction, ticket.satisfaction_comment, ticket.rated_at = (Satisfaction.UNSATISFIED.value, comment, now)
    ticket.rated_via = rating_channel(actor)
    ticket.redo_count += 1  # 重办: the same lead unit redoes it against a redo deadline
    ticket.answered_at = None
    _reopen_assignments(ticket)
    deadlines.redo(ticket, now)
    return {"satisfaction": Satisfaction.UNSATISFIED.value, "redo": ticket.redo_count}


def _close_unreached(ticket: Ticket, actor: AnyActor, now: datetime, **_: object) -> None:
    ticket.satisfaction = Satisfaction.NOT_REACHED.value


def _rate_merged(
    ticket: Ticket,
    actor: AnyActor,
    now: datetime,
    *,
    satisfaction: str | None = None,
    comment: str | None = None,
    **_: object,
) -> dict[str, object]:
    """A merged caller's rating of the master's answer: kept on their own ticket (which stays merged) and noted
    in the master's history. It neither closes nor reopens the master (its own caller's callback does) and the
    unit KPIs do not count it: one released answer, one callback (hotline/dashboard/kpis.py)."""
    master = followed_ticket(ticket)
    if not merged_callback_open(ticket, now):
        raise InvalidTransition(_l("There is no released answer waiting for this caller's rating."))
    if satisfaction not in {s.value for s in Satisfaction if s is not Satisfaction.NOT_REACHED}:
        raise ValidationFailed(_l("Choose a rating."), field="satisfaction")
    comment = strip_control(comment)
    ticket.satisfaction, ticket.satisfaction_comment, ticket.rated_at = satisfaction, comment, now
    ticket.rated_via = rating_channel(actor)
    record_event(
        master,
        "merged_rated",
        actor,
        note=comment,
        data={"ticket": ticket.tracking_no, "satisfaction": satisfaction},
        at=now,
    )
    return {"satisfaction": satisfaction, "master": master.tracking_no}


# --- merged callers ----------------------------------------------------------------------------------------

_MERGE_DEPTH = 5  # a master merged on into another ticket (rare): how far a caller's appeal is followed


def followed_ticket(ticket: Ticket) -> Ticket:
    """The ticket whose progress and answer the caller of ``ticket`` follows: the master it was merged into
    (the last one, if that master was merged on), else ``ticket`` itself."""
    for _ in range(_MERGE_DEPTH):
        if ticket.merged_into is None:
            break
        ticket = ticket.merged_into
    return ticket


def merged_callers(master: Ticket) -> list[Ticket]:
    """The appeals merged into ``master`` (and into those, for a master merged on), oldest first."""
    found: list[Ticket] = []
    level = [master.id]
    for _ in range(_MERGE_DEPTH):
        with db.session.no_autoflush:  # read in the middle of an action: its changes flush once, at its end
            rows = (
                db.session.execute(select(Ticket).where(Ticket.merged_into_id.in_(level)).order_by(Ticket.id))
                .scalars()
                .all()
            )
        if not rows:
            break
        found += rows
        level = [t.id for t in rows]
    return found


def merged_callback_open(ticket: Ticket, now: datetime | None = None) -> bool:
    """May the caller of the merged ``ticket`` rate now? When the master's answer is released and stands (not
    sent to redo), within the callback window the master's own caller has (``SLA_CALLBACK_WORKING_DAYS``
    after the release), once per released answer."""
    if ticket.status != Status.MERGED.value or ticket.merged_into is None:
        return False
    master = followed_ticket(ticket)
    released = master.answered_at
    if released is None or master.status not in (Status.PENDING_CALLBACK.value, Status.CLOSED.value):
        return False
    if ticket.rated_at is not None and ticket.rated_at >= released:
        return False
    return (now or utcnow()) <= deadlines.callback_deadline(released)


def merged_callback_cutoff(now: datetime | None = None) -> datetime:
    """The earliest release time whose callback window is still open at ``now``: the callback list shows the
    merged callers of answers released since then (``queries.callbacks_due``)."""
    from datetime import time as _clock_time
    from datetime import timedelta

    from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive

    now = now or utcnow()
    today = to_local(now).date()

    def day_start(day: date) -> datetime:
        return to_utc_naive(datetime.combine(day, _clock_time(), tzinfo=LOCAL_TZ))

    earliest = today
    for back in range(1, 370):
        day = today - timedelta(days=back)
        if deadlines.callback_deadline(day_start(day)) < now:
            break
        earliest = day
    return day_start(earliest)


_EFFECTS: dict[str, _Effect] = {
    "dispatch": _dispatch,
    "merge": _merge,
    "sign": _sign,
    "approve_return": _approve_return,
    "reject_return": _reject_return,
    "pass_down": _pass_down,
    "suspend": _suspend,
    "resume": _resume,
    "reply": _reply,
    "approve_reply": _approve_reply,
    "send_back_reply": _send_back_reply,
    "rate_satisfied": _rate,
    "rate_unsatisfied": _rate_unsatisfied,
    "close_unreached": _close_unreached,
    "rate_merged": _rate_merged,
}


# --- reads used by the boundaries --------------------------------------------------------------------------


def get_ticket(tracking_no: str, *, whole: bool = False) -> Ticket:
    """The ticket; ``whole`` loads what its page shows (history with actors and units, assignments, answers,
    photos, merged duplicates, supervision records and requests, category and units) in a few queries instead
    of one per item."""
    row = None
    if not whole:
        ticket = db.session.execute(select(Ticket).filter_by(tracking_no=tracking_no)).scalar_one_or_none()
    else:
        row = db.session.execute(_page_queries().ticket, {"tracking_no": tracking_no}).one_or_none()
        ticket = row[0] if row is not None else None
    if ticket is None:
        raise NotFound(_l("No ticket with tracking number %(no)s.", no=tracking_no))
    if row is not None:  # the whole page
        queries = _page_queries().rows
        present = {name for name, has_rows in zip(_OFTEN_EMPTY, row[1:]) if has_rows}
        for name in ("events", *_OFTEN_EMPTY):
            found = (
                db.session.execute(queries[name], {"ticket_id": ticket.id}).scalars().all()
                if name == "events" or name in present
                else []
            )
            set_committed_value(ticket, name, list(found))  # loaded: no lazy load when the page reads it
    return ticket


# Most of the ticket page's collections are empty on most tickets: the ticket's row says which have rows,
# and only those are read (one plain query each; selectinload took about twice the time).
_OFTEN_EMPTY = (
    "assignments",
    "replies",
    "attachments",
    "duplicates",
    "supervision_orders",
    "urgings",
    "extension_requests",
    "suspension_requests",
)


class _PageQueries(NamedTuple):
    ticket: Select[tuple[Ticket, *tuple[bool, ...]]]  # by tracking_no: the ticket, and which _OFTEN_EMPTY have rows
    rows: dict[str, Executable]  # by ticket_id: the rows of "events" and of each _OFTEN_EMPTY name


# The models whose rows the ticket page reads by their ticket_id.
_PageRow = TypeVar(
    "_PageRow",
    TicketEvent,
    Assignment,
    Reply,
    Attachment,
    "SupervisionOrder",
    "Urging",
    ExtensionRequest,
    SuspensionRequest,
)


@cache
def _page_queries() -> _PageQueries:
    """The ticket page's statements, built once: building them (eight EXISTS subqueries) costs more than
    running them."""
    from hotline.sla.models import SupervisionOrder, Urging

    ticket_id: BindParameter[int] = bindparam("ticket_id")

    def rows_of(model: type[_PageRow], *options: ExecutableOption) -> Select[tuple[_PageRow]]:
        return select(model).where(model.ticket_id == ticket_id).order_by(model.id).options(*options)

    ticket = (
        select(Ticket, *(getattr(Ticket, name).any().label(name) for name in _OFTEN_EMPTY))
        .where(Ticket.tracking_no == bindparam("tracking_no"))
        .options(
            joinedload(Ticket.category).joinedload(Category.parent),
            joinedload(Ticket.intake_unit),
            joinedload(Ticket.lead_unit),
            joinedload(Ticket.district),
        )
    )
    return _PageQueries(
        ticket,
        {
            # The history shows actors' names only: their roles (loaded eagerly elsewhere) stay unread.
            "events": rows_of(
                TicketEvent, joinedload(TicketEvent.actor).lazyload(User.roles), joinedload(TicketEvent.unit)
            ),
            "assignments": rows_of(Assignment, joinedload(Assignment.unit)),
            "replies": rows_of(Reply, joinedload(Reply.unit)),
            "attachments": rows_of(Attachment),
            "duplicates": select(Ticket).where(Ticket.merged_into_id == ticket_id).order_by(Ticket.id),
            "supervision_orders": rows_of(SupervisionOrder),
            "urgings": rows_of(Urging),
            "extension_requests": rows_of(ExtensionRequest),
            "suspension_requests": rows_of(SuspensionRequest),
        },
    )


def available_actions(user: User, ticket: Ticket) -> list[Transition]:
    """The transitions this user may apply to this ticket now (for buttons; the engine checks again)."""
    from hotline.tickets.workflow import actions_from

    allowed = []
    for transition in actions_from(Status(ticket.status)):
        if not permissions.can_act(user, ticket, transition):
            continue
        if transition.action == "rate_merged" and not merged_callback_open(ticket):
            continue  # nothing to rate yet (or any more)
        allowed.append(transition)
    return allowed


TERRITORIAL_KINDS = (UnitKind.STREET.value, UnitKind.COMMUNITY.value)


def _pass_down_root(unit: OrgUnit) -> tuple[OrgUnit, bool]:
    """Where ``unit`` may pass work down to: its own subtree; a district department also reaches
    the streets and communities of its district (属地), which are not below it in the tree."""
    if unit.kind == UnitKind.DEPARTMENT.value and unit.parent and unit.parent.kind == UnitKind.DISTRICT.value:
        return unit.parent, True
    return unit, False


def can_pass_down_to(source: OrgUnit, target: OrgUnit) -> bool:
    if target.id == source.id or not target.active:
        return False
    if source.contains(target):
        return True
    root, territorial_only = _pass_down_root(source)
    return territorial_only and root.contains(target) and target.kind in TERRITORIAL_KINDS


def pass_down_targets(user: User, ticket: Ticket) -> list[OrgUnit]:
    """Units the user's own lead assignment could pass this ticket down to."""
    try:
        own = lead_assignment_for(ticket, user)
    except PermissionDenied:
        return []
    taken = {a.unit_id for a in ticket.active_assignments()}
    root, _ = _pass_down_root(own.unit)
    candidates = db.session.execute(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(root.path), OrgUnit.active, OrgUnit.id.notin_(taken))
        .order_by(OrgUnit.path)
    ).scalars()
    return [u for u in candidates if can_pass_down_to(own.unit, u)]


def mask_phone(phone: str | None) -> str:
    """138****1234: what everyone outside the hotline centre sees."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def find_for_citizen(tracking_no: str, phone: str | None, *, check_phone: bool = True) -> Ticket | None:
    """The ticket, if the phone is the one it was filed with; None otherwise (the same answer for both).

    A caller whose appeal was merged may also give the master's number (the SMS of the merge names it) with
    their own phone: the answer is then their own appeal, whose page follows the master. Nothing of the
    master's caller is learned that way."""
    ticket = db.session.execute(select(Ticket).filter_by(tracking_no=tracking_no)).scalar_one_or_none()
    if ticket is None or not check_phone or ticket.citizen_phone == phone:
        return ticket
    if not phone:
        return None
    return next((t for t in merged_callers(ticket) if t.citizen_phone == phone), None)
