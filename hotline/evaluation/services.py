"""社会监督评议 rules: the admin's questionnaire (draft → open → closed → published), who may rate which unit,
the ticket's signed evaluation link, taking one response per respondent per unit, and the results with their
sample sizes (rates under ``PUBLIC_MIN_ANSWERS`` answers are not published: ``hotline.core.stats``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.accounts.models import User
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hotline.core.links import link_token, parse_link_token
from hotline.core.stats import enough_answers, published_rate
from hotline.evaluation.models import (
    Answer,
    EvaluationResponse,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireStatus,
    RespondentKind,
)
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.notify.services import queue_notification
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_administer, in_scope_query, is_citizen, is_evaluator
from hotline.sms.services import is_opted_out
from hotline.tickets.models import Ticket
from hotline.tickets.workflow import Status

S = QuestionnaireStatus
RATED_UNIT_KINDS = (UnitKind.DISTRICT.value, UnitKind.DEPARTMENT.value, UnitKind.STREET.value)
# The answers a question takes: a 1–5 score, or 满意 (3) / 基本满意 (2) / 不满意 (1).
VALUES = {QuestionKind.SCORE.value: (1, 2, 3, 4, 5), QuestionKind.CHOICE.value: (3, 2, 1)}
TRANSITIONS = {
    "open": ({S.DRAFT}, S.OPEN),
    "close": ({S.OPEN}, S.CLOSED),
    "publish": ({S.CLOSED}, S.PUBLISHED),
    "unpublish": ({S.PUBLISHED}, S.CLOSED),
}
LINK_PATH = "/e/"  # the public blueprint's short route (hotline/evaluation/views.py link)


def _require_admin(actor: User) -> None:
    if not can_administer(actor):
        raise PermissionDenied(_l("Only administrators define questionnaires."))


def _require_draft(questionnaire: Questionnaire) -> None:
    if questionnaire.status != S.DRAFT.value:
        raise ValidationFailed(_l("Questions can only be changed while the questionnaire is a draft."))


# --- the admin's questionnaire --------------------------------------------------------------------------------


def create_questionnaire(
    actor: User, year: int, title: str, opens_on: date | None = None, closes_on: date | None = None
) -> Questionnaire:
    _require_admin(actor)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_l("A title is required."), field="title")
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_l("Enter a year between 2000 and 2100."), field="year")
    if opens_on and closes_on and closes_on < opens_on:
        raise ValidationFailed(_l("The closing day must not be before the opening day."), field="closes_on")
    questionnaire = Questionnaire(year=year, title=title, opens_on=opens_on, closes_on=closes_on, status=S.DRAFT.value)
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire


def add_question(actor: User, questionnaire: Questionnaire, text: str, kind: str) -> Question:
    _require_admin(actor)
    _require_draft(questionnaire)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_l("A question needs its text."), field="text")
    if kind not in VALUES:
        raise ValidationFailed(_l("Choose the kind of answer."), field="kind")
    position = max((q.position for q in questionnaire.questions), default=0) + 1
    question = Question(text=text, kind=kind, position=position)
    questionnaire.questions.append(question)
    db.session.flush()
    return question


def move_question(actor: User, question: Question, delta: int) -> None:
    """Swap the question with its neighbour above (``delta`` -1) or below (+1)."""
    _require_admin(actor)
    questionnaire = question.questionnaire
    _require_draft(questionnaire)
    ordered = sorted(questionnaire.questions, key=lambda q: (q.position, q.id))
    index = ordered.index(question)
    other = index + (1 if delta > 0 else -1)
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, q in enumerate(ordered, start=1):
        q.position = position
    db.session.flush()


def remove_question(actor: User, question: Question) -> None:
    _require_admin(actor)
    questionnaire = question.questionnaire
    _require_draft(questionnaire)
    questionnaire.questions.remove(question)
    db.session.flush()


def change_status(actor: User, questionnaire: Questionnaire, action: str) -> None:
    """open / close / publish / unpublish; a questionnaire opens only with at least one question."""
    _require_admin(actor)
    if action not in TRANSITIONS:
        raise ValidationFailed(_l("Unknown action."), field="action")
    sources, target = TRANSITIONS[action]
    if S(questionnaire.status) not in sources:
        raise ValidationFailed(_l("This is not possible in the questionnaire's current state."), field="action")
    if action == "open" and not questionnaire.questions:
        raise ValidationFailed(_l("Add at least one question before opening the questionnaire."), field="action")
    questionnaire.status = target.value
    if target is S.PUBLISHED:
        questionnaire.published_at = utcnow()
    db.session.flush()


def accepting(questionnaire: Questionnaire, today: date | None = None) -> bool:
    """Open, and today (Asia/Shanghai) within its opening and closing days."""
    today = today or to_local(utcnow()).date()
    return (
        questionnaire.status == S.OPEN.value
        and (questionnaire.opens_on is None or questionnaire.opens_on <= today)
        and (questionnaire.closes_on is None or today <= questionnaire.closes_on)
    )


def open_questionnaires() -> list[Questionnaire]:
    rows = db.session.execute(
        select(Questionnaire).where(Questionnaire.status == S.OPEN.value).order_by(Questionnaire.year.desc())
    ).scalars()
    return [q for q in rows if accepting(q)]


# --- who rates which unit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Respondent:
    kind: RespondentKind
    user_id: int | None = None
    ticket_id: int | None = None


def respondent_for(user: User) -> Respondent:
    """A signed-in account: an evaluator (人大代表/政协委员) rates as one, a citizen account as a citizen."""
    if is_evaluator(user):
        return Respondent(RespondentKind.EVALUATOR, user_id=user.id)
    if is_citizen(user):
        return Respondent(RespondentKind.CITIZEN, user_id=user.id)
    raise PermissionDenied(_l("Only citizens and invited evaluators take part in the evaluation."))


def rateable_units(user: User) -> list[OrgUnit]:
    """Evaluators: every district, department and street; a citizen account: the units that led its appeals."""
    query = select(OrgUnit).where(OrgUnit.kind.in_(RATED_UNIT_KINDS), OrgUnit.active.is_(True))
    if not is_evaluator(user):
        if not is_citizen(user):
            return []
        led = in_scope_query(select(Ticket.lead_unit_id).where(Ticket.lead_unit_id.is_not(None)), user)
        query = select(OrgUnit).where(OrgUnit.id.in_(led))
    return list(db.session.execute(query.order_by(OrgUnit.path)).scalars())


def rated_unit_ids(questionnaire: Questionnaire, respondent: Respondent) -> set[int]:
    """Units this respondent has already rated in ``questionnaire``."""
    column = EvaluationResponse.user_id if respondent.user_id is not None else EvaluationResponse.ticket_id
    key = respondent.user_id if respondent.user_id is not None else respondent.ticket_id
    return set(
        db.session.execute(
            select(EvaluationResponse.unit_id).where(
                EvaluationResponse.questionnaire_id == questionnaire.id, column == key
            )
        ).scalars()
    )


# --- the ticket's signed link (the same HMAC scheme as the release SMS's /r/ rating link) ----------------------


@dataclass(frozen=True)
class EvaluationLink:
    ticket_id: int
    questionnaire_id: int
    expires: datetime


def evaluation_link_token(ticket_id: int, questionnaire_id: int, now: datetime | None = None) -> str:
    days = int(current_app.config.get("EVALUATION_LINK_DAYS", 60))
    return link_token("evaluation-link", ticket_id, questionnaire_id, days, now)


def parse_evaluation_link(token: str, now: datetime | None = None) -> EvaluationLink | None:
    """The link's ticket and questionnaire, or None for a forged, mangled or expired one."""
    link = parse_link_token("evaluation-link", token, now)
    return None if link is None else EvaluationLink(link.first, link.second, link.expires)


@dataclass(frozen=True)
class LinkTarget:
    questionnaire: Questionnaire
    ticket: Ticket
    unit: OrgUnit
    respondent: Respondent


def link_target(token: str) -> LinkTarget:
    """What a link lets its holder rate: the lead unit of its ticket, once, while the questionnaire is open."""
    link = parse_evaluation_link(token)
    if link is None:
        raise NotFound(_l("This evaluation link is not valid or has expired."))
    questionnaire = db.session.get(Questionnaire, link.questionnaire_id)
    ticket = db.session.get(Ticket, link.ticket_id)
    if questionnaire is None or ticket is None or ticket.lead_unit is None:
        raise NotFound(_l("This evaluation link is not valid or has expired."))
    if not accepting(questionnaire):
        raise ValidationFailed(_l("This questionnaire is not open for answers."))
    respondent = Respondent(RespondentKind.CITIZEN, ticket_id=ticket.id)
    if ticket.lead_unit.id in rated_unit_ids(questionnaire, respondent):
        raise Conflict(_l("This unit has already been evaluated from this link. Thank you."))
    return LinkTarget(questionnaire, ticket, ticket.lead_unit, respondent)


INVITE_TEMPLATE = "evaluation_invite"


def ticket_evaluation_path(ticket: Ticket) -> str | None:
    """The tracking page's link to evaluate the unit that led a closed appeal, while a questionnaire is open
    and this ticket has not rated it yet; None otherwise."""
    if ticket.status != Status.CLOSED.value or ticket.lead_unit_id is None:
        return None
    for questionnaire in open_questionnaires():
        respondent = Respondent(RespondentKind.CITIZEN, ticket_id=ticket.id)
        if ticket.lead_unit_id not in rated_unit_ids(questionnaire, respondent):
            return LINK_PATH + evaluation_link_token(ticket.id, questionnaire.id)
    return None


def evaluation_link_url(base_url: str, ticket_id: int, questionnaire_id: int) -> str:
    return base_url.rstrip("/") + LINK_PATH + evaluation_link_token(ticket_id, questionnaire_id)


def invite_by_sms(actor: User, questionnaire: Questionnaire, base_url: str, limit: int = 5000) -> int:
    """Queue one SMS with the ticket's evaluation link to the caller of every appeal closed in the
    questionnaire's year that a unit led; phones that opted out of surveys and tickets already invited are
    skipped, so running it again invites only the new ones. Returns the number queued."""
    _require_admin(actor)
    if questionnaire.status != S.OPEN.value:
        raise ValidationFailed(_l("Invitations go out only while the questionnaire is open."), field="action")
    start, end = datetime(questionnaire.year, 1, 1), datetime(questionnaire.year + 1, 1, 1)
    invited = select(Notification.ticket_id).where(
        Notification.template == INVITE_TEMPLATE, Notification.ticket_id.is_not(None)
    )
    tickets = db.session.execute(
        select(Ticket)
        .where(
            Ticket.status == Status.CLOSED.value,
            Ticket.lead_unit_id.is_not(None),
            Ticket.closed_at >= start,
            Ticket.closed_at < end,
            Ticket.id.not_in(invited),
        )
        .order_by(Ticket.id)
        .limit(limit)
    ).scalars()
    queued = 0
    for ticket in tickets:
        if not ticket.citizen_phone or is_opted_out(ticket.citizen_phone) or ticket.lead_unit is None:
            continue
        queue_notification(
            "sms",
            ticket.citizen_phone,
            INVITE_TEMPLATE,
            ticket=ticket,
            payload={
                "tracking_no": ticket.tracking_no,
                "unit": ticket.lead_unit.name,
                "evaluation_url": evaluation_link_url(base_url, ticket.id, questionnaire.id),
            },
        )
        queued += 1
    db.session.flush()
    return queued


# --- taking a response ---------------------------------------------------------------------------------------


def submit_response(
    questionnaire: Questionnaire, unit: OrgUnit, respondent: Respondent, values: dict[int, int | None]
) -> EvaluationResponse:
    """One response: every question answered with one of its values; once per respondent, unit and
    questionnaire (a second one is refused with a message, the first stays)."""
    if not accepting(questionnaire):
        raise ValidationFailed(_l("This questionnaire is not open for answers."))
    errors = {}
    for question in questionnaire.questions:
        if values.get(question.id) not in VALUES[question.kind]:
            errors[f"q{question.id}"] = _l("Please answer this question.")
    if errors:
        raise ValidationFailed(_l("Please answer every question."), fields=errors)
    if unit.id in rated_unit_ids(questionnaire, respondent):
        raise Conflict(_l("You have already evaluated this unit in this questionnaire."))
    response = EvaluationResponse(
        questionnaire_id=questionnaire.id,
        unit_id=unit.id,
        respondent_kind=respondent.kind.value,
        user_id=respondent.user_id,
        ticket_id=respondent.ticket_id,
        answers=[Answer(question_id=q.id, value=int(values[q.id] or 0)) for q in questionnaire.questions],
    )
    try:
        with db.session.begin_nested():  # two tabs submitting at once: the unique constraint decides
            db.session.add(response)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("You have already evaluated this unit in this questionnaire.")) from None
    return response


# --- results -------------------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    n: int = 0
    distribution: dict[int, int] = field(default_factory=dict)
    mean: float | None = None  # every answer counted (staff results)
    satisfaction: float | None = None  # choice questions: (满意 + 0.9 × 基本满意) / n

    def finish(self, kind: str) -> None:
        if not self.n:
            return
        self.mean = sum(v * c for v, c in self.distribution.items()) / self.n
        if kind == QuestionKind.CHOICE.value:
            self.satisfaction = (self.distribution.get(3, 0) + 0.9 * self.distribution.get(2, 0)) / self.n

    def share(self, value: int) -> float:
        return self.distribution.get(value, 0) / self.n if self.n else 0.0


@dataclass
class UnitResult:
    unit: OrgUnit
    responses: dict[str, int]  # respondent kind → number of responses
    questions: dict[int, dict[str, QuestionResult]]  # question id → "all"/"citizen"/"evaluator" → result


def results(questionnaire: Questionnaire) -> list[UnitResult]:
    """Per unit, per question, for everyone and split citizen / evaluator: n, mean, distribution (two grouped
    queries)."""
    counts = db.session.execute(
        select(
            Answer.question_id,
            EvaluationResponse.unit_id,
            EvaluationResponse.respondent_kind,
            Answer.value,
            func.count(),
        )
        .join(EvaluationResponse, EvaluationResponse.id == Answer.response_id)
        .where(EvaluationResponse.questionnaire_id == questionnaire.id)
        .group_by(Answer.question_id, EvaluationResponse.unit_id, EvaluationResponse.respondent_kind, Answer.value)
    ).all()
    responses = db.session.execute(
        select(EvaluationResponse.unit_id, EvaluationResponse.respondent_kind, func.count())
        .where(EvaluationResponse.questionnaire_id == questionnaire.id)
        .group_by(EvaluationResponse.unit_id, EvaluationResponse.respondent_kind)
    ).all()
    kinds = {q.id: q.kind for q in questionnaire.questions}
    per_unit: dict[int, dict[int, dict[str, QuestionResult]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(QuestionResult))
    )
    for question_id, unit_id, kind, value, count in counts:
        if question_id not in kinds:
            continue
        for key in ("all", kind):
            result = per_unit[unit_id][question_id][key]
            result.n += count
            result.distribution[value] = result.distribution.get(value, 0) + count
    answered: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, kind, count in responses:
        answered[unit_id][kind] = count
    units = {u.id: u for u in db.session.execute(select(OrgUnit).where(OrgUnit.id.in_(list(answered)))).scalars()}
    out = []
    for unit_id in sorted(answered, key=lambda i: units[i].path):
        questions = {}
        for question in questionnaire.questions:
            split = {key: per_unit[unit_id][question.id][key] for key in ("all", "citizen", "evaluator")}
            for result in split.values():
                result.finish(question.kind)
            questions[question.id] = split
        out.append(UnitResult(units[unit_id], answered[unit_id], questions))
    return out


def published_results(questionnaire: Questionnaire) -> list[dict[str, object]]:
    """``results`` as published: per unit and question, n and the score or satisfaction rate, None (too few
    answers) under ``PUBLIC_MIN_ANSWERS``: a score question's mean (1–5), a choice question's satisfaction rate."""
    out = []
    for unit_result in results(questionnaire):
        questions = []
        for question in questionnaire.questions:
            split = unit_result.questions[question.id]
            row: dict[str, object] = {"question": question.text, "kind": question.kind}
            for key in ("all", "citizen", "evaluator"):
                result = split[key]
                value = result.satisfaction if question.kind == QuestionKind.CHOICE.value else result.mean
                row[key] = {"n": result.n, "value": published_rate(value, result.n)}
            questions.append(row)
        out.append(
            {
                "unit": unit_result.unit.name,
                "responses": sum(unit_result.responses.values()),
                "published": enough_answers(sum(unit_result.responses.values())),
                "questions": questions,
            }
        )
    return out


def published_questionnaires() -> list[Questionnaire]:
    return list(
        db.session.execute(
            select(Questionnaire)
            .where(Questionnaire.status == S.PUBLISHED.value)
            .order_by(Questionnaire.year.desc(), Questionnaire.id.desc())
        ).scalars()
    )
