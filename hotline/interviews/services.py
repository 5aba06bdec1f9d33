"""The rules of online interviews (在线访谈) and press conferences (新闻发布会).

- Scheduling: admins and supervisors, for a unit that takes tickets and lies in their scope; a topic, the
  guests, a start in the future and an end after it (at most ``MAX_HOURS`` later).
- Questions: anyone, on the portal, while the session is scheduled or live; the asker's name and phone are
  optional and private (the follow-up ticket only). A question is public only once approved, and then only as
  ``public_text``: the text through ``core.privacy.scrub_text`` (its asker's name and phone, then every shape of
  personal data).
- During the session, whoever ``manages_interview`` (the unit's handlers, admins and supervisors over it)
  moderates, answers (an answer to a pending question approves it) and ends it.
- Ending: every approved question left unanswered becomes a ticket for the session's unit, registered and
  dispatched through the workflow as ``SYSTEM`` (``register_ticket``, ``apply_transition("dispatch")``) with
  the asker's phone. Intake needs a phone to answer the citizen, so a question without one gets no ticket
  (``no_ticket_reason`` "no_phone") and may still be answered in the transcript. Ending is done once: the
  status moves by a conditional UPDATE, so a second end (or two at once) makes no second ticket.
- Publishing the transcript (ended → published) adds its summary.

Every function flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import selectinload

from hotline.accounts.models import Role, User
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.core.i18n import in_default_language
from hotline.core.models import rows_matched, table_of
from hotline.core.privacy import scrub_text
from hotline.core.text import strip_control
from hotline.extensions import db
from hotline.interviews.models import (
    InterviewKind,
    InterviewQuestion,
    InterviewSession,
    InterviewStatus,
    QuestionStatus,
)
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_schedule_interviews, interview_scope, manages_interview
from hotline.tickets.models import Ticket
from hotline.tickets.services import SYSTEM, AppealInput, apply_transition, register_ticket
from hotline.tickets.validation import LIMITS, normalise_phone, phone_is_valid
from hotline.tickets.workflow import Appeal, Channel

MAX_HOURS = 12  # a session longer than this is a typo in the end time
QUESTION_LIMIT = 500
ANSWER_LIMIT = 4000
GUESTS_LIMIT = 1000
SUMMARY_LIMIT = 8000
NO_PHONE = "no_phone"
PUBLIC_QUESTION_STATUSES = (QuestionStatus.APPROVED.value, QuestionStatus.ANSWERED.value)
_NO_TICKET_KINDS = (UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value)


# --- scheduling -------------------------------------------------------------------------------------------------


@dataclass
class ScheduleInput:
    kind: str
    topic: str
    unit_id: int | None
    starts_at: datetime | None  # naive UTC
    ends_at: datetime | None
    guests: str
    description: str | None = None


def schedule_session(data: ScheduleInput, actor: User) -> InterviewSession:
    """A new session, announced on the portal at once (status scheduled)."""
    if not can_schedule_interviews(actor):
        raise PermissionDenied(_l("Only administrators and supervisors schedule interviews."))
    errors: dict[str, Any] = {}
    topic = (strip_control(data.topic) or "").strip()
    guests = (strip_control(data.guests) or "").strip()
    description = (strip_control(data.description) or "").strip() or None
    if data.kind not in {k.value for k in InterviewKind}:
        errors["kind"] = _l("Choose one of the listed values.")
    if not topic:
        errors["topic"] = _l("%(what)s is required.", what=_l("A topic"))
    elif len(topic) > 200:
        errors["topic"] = _l("At most %(n)d characters.", n=200)
    if not guests:
        errors["guests"] = _l("Name the unit's head and the other guests.")
    elif len(guests) > GUESTS_LIMIT:
        errors["guests"] = _l("At most %(n)d characters.", n=GUESTS_LIMIT)
    if description and len(description) > 2000:
        errors["description"] = _l("At most %(n)d characters.", n=2000)
    unit = db.session.get(OrgUnit, data.unit_id) if data.unit_id else None
    if unit is None:
        errors["unit_id"] = _l("Choose the unit whose head takes part.")
    elif not unit.active or unit.kind in _NO_TICKET_KINDS:
        errors["unit_id"] = _l("%(unit)s cannot take tickets.", unit=unit.name)
    elif not actor.in_scope(unit, Role.ADMIN, Role.SUPERVISOR):
        errors["unit_id"] = _l("This unit is outside your scope.")
    now = utcnow()
    if data.starts_at is None:
        errors["starts_at"] = _l("Give the start time.")
    elif data.starts_at < now:
        errors["starts_at"] = _l("The start time has passed.")
    if data.ends_at is None:
        errors["ends_at"] = _l("Give the end time.")
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        errors["ends_at"] = _l("The end must come after the start.")
    elif data.starts_at is not None and data.ends_at - data.starts_at > timedelta(hours=MAX_HOURS):
        errors["ends_at"] = _l("A session lasts at most %(n)d hours.", n=MAX_HOURS)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
    assert unit is not None and data.starts_at is not None and data.ends_at is not None
    session = InterviewSession(
        kind=data.kind,
        topic=topic,
        unit=unit,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        guests=guests,
        description=description,
        status=InterviewStatus.SCHEDULED.value,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    return session


# --- questions ----------------------------------------------------------------------------------------------


def submit_question(
    session: InterviewSession, text: str | None, *, name: str | None = None, phone: str | None = None
) -> InterviewQuestion:
    """A citizen's question, waiting for moderation; refused once the session has ended."""
    if not session.open_for_questions:
        raise InvalidTransition(_l("This session no longer takes questions."))
    errors: dict[str, Any] = {}
    body = (strip_control(text) or "").strip()
    name = (strip_control(name) or "").strip() or None
    phone = normalise_phone(strip_control(phone)) or None
    if not body:
        errors["text"] = _l("%(what)s is required.", what=_l("A question"))
    elif len(body) > QUESTION_LIMIT:
        errors["text"] = _l("At most %(n)d characters.", n=QUESTION_LIMIT)
    if name and len(name) > LIMITS["citizen_name"]:
        errors["name"] = _l("At most %(n)d characters.", n=LIMITS["citizen_name"])
    if phone and not phone_is_valid(phone):
        errors["phone"] = _l("Enter a mainland mobile number (11 digits) or a landline with area code.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), fields=errors)
    question = InterviewQuestion(
        session=session, text=body, asker_name=name, asker_phone=phone, status=QuestionStatus.PENDING.value
    )
    db.session.add(question)
    db.session.flush()
    return question


def _require_manager(session: InterviewSession, actor: User) -> None:
    if not manages_interview(actor, session):
        raise PermissionDenied(_l("This session is outside your units."))


def _approve(question: InterviewQuestion, actor: User, now: datetime) -> None:
    question.status = QuestionStatus.APPROVED.value
    question.public_text = scrub_text(question.text, names=[question.asker_name], phones=[question.asker_phone])
    question.moderated_by_id, question.moderated_at = actor.id, now


def moderate_question(question: InterviewQuestion, actor: User, decision: str) -> InterviewQuestion:
    """approve (shown on the portal, scrubbed) or reject (never shown) a question not yet answered, before or
    during the session."""
    session = question.session
    _require_manager(session, actor)
    if not session.open_for_questions:
        raise InvalidTransition(_l("The session has ended: its questions are no longer moderated."))
    if question.status == QuestionStatus.ANSWERED.value:
        raise InvalidTransition(_l("This question has been answered."))
    now = utcnow()
    if decision == "approve":
        _approve(question, actor, now)
    elif decision == "reject":
        question.status = QuestionStatus.REJECTED.value
        question.public_text = None
        question.moderated_by_id, question.moderated_at = actor.id, now
    else:
        raise ValidationFailed(_l("Choose one of the listed values."), field="decision")
    db.session.flush()
    return question


def answer_question(question: InterviewQuestion, actor: User, answer: str | None) -> InterviewQuestion:
    """Publish (or correct) the answer to a question, live: the portal's page shows it within seconds. A pending
    question is approved by answering it. After the end, only a question that got no ticket may be answered
    (in the transcript)."""
    session = question.session
    _require_manager(session, actor)
    text = (strip_control(answer) or "").strip()
    if not text:
        raise ValidationFailed(_l("%(what)s is required.", what=_l("An answer")), field="answer")
    if len(text) > ANSWER_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=ANSWER_LIMIT), field="answer")
    if question.status == QuestionStatus.REJECTED.value:
        raise InvalidTransition(_l("A rejected question is not answered."))
    if session.status == InterviewStatus.SCHEDULED.value:
        raise InvalidTransition(_l("Answers are published once the session has started."))
    if session.status != InterviewStatus.LIVE.value and question.ticket_id is not None:
        raise InvalidTransition(_l("This question became a ticket: the unit answers it there."))
    if session.status != InterviewStatus.LIVE.value and question.status == QuestionStatus.PENDING.value:
        raise InvalidTransition(_l("The session has ended: its questions are no longer moderated."))
    now = utcnow()
    if question.status == QuestionStatus.PENDING.value:
        _approve(question, actor, now)
    question.status = QuestionStatus.ANSWERED.value
    question.answer = text
    question.answered_by_id, question.answered_at = actor.id, now
    db.session.flush()
    return question


# --- the session's course ---------------------------------------------------------------------------------


def _move(session: InterviewSession, source: InterviewStatus, target: InterviewStatus, **values: Any) -> bool:
    """Move the status by one conditional UPDATE: of two requests at once exactly one moves it."""
    table = table_of(InterviewSession)
    matched = rows_matched(
        db.session.execute(
            update(table)
            .where(table.c.id == session.id, table.c.status == source.value)
            .values(status=target.value, **values)
        )
    )
    db.session.refresh(session)
    return matched == 1


def start_session(session: InterviewSession, actor: User) -> InterviewSession:
    _require_manager(session, actor)
    if not _move(session, InterviewStatus.SCHEDULED, InterviewStatus.LIVE, started_at=utcnow()):
        raise InvalidTransition(_l("Only a scheduled session can start."))
    return session


def end_session(session: InterviewSession, actor: User) -> list[Ticket]:
    """live → ended; every approved, unanswered question becomes a ticket for the session's unit (at most once:
    a session already ended returns no ticket and changes nothing)."""
    _require_manager(session, actor)
    if session.status in (InterviewStatus.ENDED.value, InterviewStatus.PUBLISHED.value):
        return []
    now = utcnow()
    if not _move(session, InterviewStatus.LIVE, InterviewStatus.ENDED, ended_at=now, ended_by_id=actor.id):
        if session.status in (InterviewStatus.ENDED.value, InterviewStatus.PUBLISHED.value):
            return []  # ended by someone else a moment ago
        raise InvalidTransition(_l("Only a live session can end."))
    tickets = []
    for question in session.questions:
        if question.status == QuestionStatus.APPROVED.value and question.ticket_id is None:
            ticket = _follow_up(session, question)
            if ticket is not None:
                tickets.append(ticket)
    db.session.flush()
    return tickets


def _district_of(unit: OrgUnit) -> int | None:
    current: OrgUnit | None = unit
    while current is not None:
        if current.kind == UnitKind.DISTRICT.value:
            return current.id
        current = current.parent
    return None


def _follow_up(session: InterviewSession, question: InterviewQuestion) -> Ticket | None:
    phone = normalise_phone(question.asker_phone)
    if not phone_is_valid(phone):
        question.no_ticket_reason = NO_PHONE
        return None
    when = to_local(session.starts_at).strftime("%Y-%m-%d")
    title = in_default_language(_l("Question left at the interview “%(topic)s”", topic=session.topic))
    appeal = AppealInput(
        appeal_type=Appeal.CONSULTATION.value,
        title=title[: LIMITS["title"]],
        body=question.text,
        citizen_phone=phone,
        channel=Channel.WEB.value,
        citizen_name=question.asker_name,
        district_id=_district_of(session.unit),
    )
    note = in_default_language(
        _l(
            "Asked at the interview “%(topic)s” on %(date)s and not answered there; passed to %(unit)s.",
            topic=session.topic,
            date=when,
            unit=session.unit.name,
        )
    )
    ticket = register_ticket(appeal, SYSTEM, "register", note=note[: LIMITS["note"]])
    apply_transition(ticket, "dispatch", SYSTEM, lead_unit=session.unit, note=note[: LIMITS["note"]])
    question.ticket = ticket
    question.no_ticket_reason = None
    return ticket


def publish_transcript(session: InterviewSession, actor: User, summary: str | None) -> InterviewSession:
    """ended → published with the transcript's summary; a published transcript's summary may be corrected."""
    _require_manager(session, actor)
    text = (strip_control(summary) or "").strip() or None
    if text and len(text) > SUMMARY_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=SUMMARY_LIMIT), field="summary")
    if session.status not in (InterviewStatus.ENDED.value, InterviewStatus.PUBLISHED.value):
        raise InvalidTransition(_l("The transcript is published after the session has ended."))
    session.summary = text
    if session.status == InterviewStatus.ENDED.value:
        session.status = InterviewStatus.PUBLISHED.value
        session.published_at = utcnow()
    db.session.flush()
    return session


# --- reading ------------------------------------------------------------------------------------------------


def get_session(session_id: int, *, whole: bool = False) -> InterviewSession:
    """A session; ``whole``: with its questions, their tickets and who answered them (the staff page)."""
    options = [selectinload(InterviewSession.unit)] + (
        [
            selectinload(InterviewSession.questions).selectinload(InterviewQuestion.ticket),
            selectinload(InterviewSession.questions).selectinload(InterviewQuestion.answered_by),
        ]
        if whole
        else []
    )
    session = db.session.get(InterviewSession, session_id, options=options)
    if session is None:
        raise NotFound()
    return session


def get_question(session: InterviewSession, question_id: int) -> InterviewQuestion:
    question = db.session.get(InterviewQuestion, question_id)
    if question is None or question.session_id != session.id:
        raise NotFound()
    return question


_ORDER = case(
    (InterviewSession.status == InterviewStatus.LIVE.value, 0),
    (InterviewSession.status == InterviewStatus.SCHEDULED.value, 1),
    else_=2,
)


def staff_sessions(user: User) -> list[InterviewSession]:
    """The sessions the user manages: live first, then the coming ones, then the past ones, newest first."""
    query: Select[tuple[InterviewSession]] = select(InterviewSession)
    scope = interview_scope(user)
    if scope is not None:
        query = query.where(scope)
    query = query.options(selectinload(InterviewSession.unit), selectinload(InterviewSession.questions))
    rows = db.session.execute(query.order_by(_ORDER, InterviewSession.starts_at.desc()).limit(200)).scalars()
    return list(rows)


def public_sessions() -> list[InterviewSession]:
    """Every session, as the portal lists them: live, coming, then past."""
    query = (
        select(InterviewSession)
        .options(selectinload(InterviewSession.unit))
        .order_by(_ORDER, InterviewSession.starts_at.desc())
        .limit(100)
    )
    return list(db.session.execute(query).scalars())


def public_questions(session: InterviewSession) -> list[InterviewQuestion]:
    """The questions the portal shows: approved or answered, answered ones in the order they were answered."""
    return sorted(
        (q for q in session.questions if q.status in PUBLIC_QUESTION_STATUSES),
        key=lambda q: (q.answered_at is None, q.answered_at or q.created_at, q.id),
    )


def public_items(session: InterviewSession) -> list[dict[str, Any]]:
    """The questions and answers the portal shows, as the page and its JSON both render them: the question's
    scrubbed text and the answer through ``scrub_text`` too (with the asker's name and phone), never a name or a
    phone."""
    items = []
    for q in public_questions(session):
        answered = q.status == QuestionStatus.ANSWERED.value
        items.append(
            {
                "id": q.id,
                "text": q.public_text or "",
                "answer": scrub_text(q.answer, names=[q.asker_name], phones=[q.asker_phone]) if answered else None,
                "answered_at": to_local(q.answered_at).strftime("%H:%M") if answered and q.answered_at else None,
            }
        )
    return items


def live_state(session: InterviewSession) -> dict[str, Any]:
    """The public page's state for its script (``static/js/interview-live.js``)."""
    items = public_items(session)
    return {
        "status": session.status,
        "answered": sum(1 for i in items if i["answer"] is not None),
        "questions": items,
    }
