"""Opinion case rules (舆情): opening a case from a hotspot or an outside item, linking tickets, and the stages
收集 collected → 研判 analysed → 处置 handling → 回应 responded (published) → 办结 closed, in that order, each by
its role (``hotline.permissions``) and audited. Services flush, never commit.

What is published (the response's title and text) is scrubbed once, when it is published
(``hotline.core.privacy.scrub_text`` with the linked tickets' names, phones and addresses), and the staff
member confirms that it names no one; the portal shows the stored, scrubbed text only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from hotline.accounts.models import User
from hotline.core import privacy
from hotline.core.audit import record_audit
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.dashboard.kpis import place_key
from hotline.dashboard.models import HotspotAlertRow
from hotline.extensions import db
from hotline.opinion.models import (
    OPEN_STAGES,
    CaseLevel,
    CaseSource,
    CaseStage,
    OpinionCase,
    OpinionCaseTicket,
    OpinionNote,
)
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_manage_opinion, handles_opinion_case, opinion_scope
from hotline.tickets.models import Category, Ticket

TREND_DAYS = 30
MAX_URL = 1000
EXTERNAL_SOURCES = (CaseSource.NEWS, CaseSource.POST)
# What each stage step needs the case to be in, and where it leaves it.
STEPS: dict[str, tuple[tuple[CaseStage, ...], CaseStage]] = {
    "analyse": ((CaseStage.COLLECTED, CaseStage.ANALYSED), CaseStage.ANALYSED),
    "handle": ((CaseStage.ANALYSED,), CaseStage.HANDLING),
    "note": ((CaseStage.HANDLING,), CaseStage.HANDLING),
    "respond": ((CaseStage.HANDLING,), CaseStage.RESPONDED),
    "close": ((CaseStage.RESPONDED,), CaseStage.CLOSED),
}


def local_today() -> date:
    return to_local(utcnow()).date()


def _require_manager(actor: User) -> None:
    if not can_manage_opinion(actor):
        raise PermissionDenied(_l("Only dispatchers and supervisors manage opinion cases."))


def _require_stage(case: OpinionCase, step: str) -> CaseStage:
    sources, target = STEPS[step]
    if CaseStage(case.stage) not in sources:
        raise InvalidTransition(_l("This case cannot take this step in its current stage."))
    return target


def _text(value: str | None, field: str, limit: int, message: LazyString) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, field=field)
    if len(value) > limit:
        raise ValidationFailed(_l("At most %(n)d characters.", n=limit), field=field)
    return value


# --- opening ----------------------------------------------------------------------------------------------------


def open_hotspot_case(alert_id: int, actor: User) -> OpinionCase:
    """A case from a detected hotspot: its place and category, its tickets linked."""
    _require_manager(actor)
    alert = db.session.get(HotspotAlertRow, alert_id)
    if alert is None:
        raise NotFound(_l("This hotspot is no longer current. Reload the list."))
    existing = db.session.execute(
        select(OpinionCase.id).where(
            OpinionCase.place == alert.place,
            OpinionCase.category_id == alert.category_id,
            OpinionCase.stage.in_([s.value for s in OPEN_STAGES]),
        )
    ).scalar()
    if existing is not None:
        raise ValidationFailed(_l("An open case already covers this hotspot: case %(id)d.", id=existing))
    case = OpinionCase(
        source=CaseSource.HOTSPOT.value,
        title=alert.place[:200],
        place=alert.place,
        category_id=alert.category_id,
        stage=CaseStage.COLLECTED.value,
        created_at=utcnow(),
        created_by_id=actor.id,
    )
    db.session.add(case)
    tickets = db.session.execute(select(Ticket).where(Ticket.id.in_(alert.ticket_ids))).scalars().all()
    for ticket in tickets:
        case.links.append(OpinionCaseTicket(ticket=ticket, linked_at=utcnow(), linked_by_id=actor.id))
    db.session.flush()
    record_audit(actor, "opinion.open", f"opinion:{case.id}", {"source": case.source, "tickets": len(tickets)})
    return case


def valid_url(url: str | None) -> str:
    """An outside item's link: http(s), a host, no spaces, at most 1000 characters."""
    url = (url or "").strip()
    if not url:
        raise ValidationFailed(_l("The link is required."), field="url")
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(c.isspace() for c in url)
    ):
        raise ValidationFailed(_l("Enter a web address starting with http:// or https://."), field="url")
    return url


def open_external_case(
    actor: User, *, source: str, url: str | None, title: str | None, excerpt: str | None, category_id: int | None
) -> OpinionCase:
    """A case from a news report or a post staff saw: its link, title and an excerpt."""
    _require_manager(actor)
    if source not in {s.value for s in EXTERNAL_SOURCES}:
        raise ValidationFailed(_l("Choose a news report or a post."), field="source")
    checked_url = valid_url(url)
    checked_title = _text(title, "title", 200, _l("A title is required."))
    checked_excerpt = (excerpt or "").strip() or None
    if checked_excerpt and len(checked_excerpt) > 4000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=4000), field="excerpt")
    case = OpinionCase(
        source=source,
        title=checked_title,
        url=checked_url,
        excerpt=checked_excerpt,
        category_id=category_id,
        stage=CaseStage.COLLECTED.value,
        created_at=utcnow(),
        created_by_id=actor.id,
    )
    db.session.add(case)
    db.session.flush()
    record_audit(actor, "opinion.open", f"opinion:{case.id}", {"source": source, "url": checked_url})
    return case


# --- linked tickets -----------------------------------------------------------------------------------------------


def _ticket_by_number(tracking_no: str | None) -> Ticket:
    number = (tracking_no or "").strip()
    ticket = (
        db.session.execute(select(Ticket).where(Ticket.tracking_no == number)).scalar_one_or_none()
        if number.isdigit()
        else None
    )
    if ticket is None:
        raise ValidationFailed(_l("No ticket has this number."), field="tracking_no")
    return ticket


def link_ticket(case: OpinionCase, actor: User, tracking_no: str | None) -> Ticket:
    _require_manager(actor)
    if not case.is_open:
        raise InvalidTransition(_l("A closed case keeps its tickets."))
    ticket = _ticket_by_number(tracking_no)
    if any(link.ticket_id == ticket.id for link in case.links):
        raise ValidationFailed(_l("This ticket is already linked."), field="tracking_no")
    case.links.append(OpinionCaseTicket(ticket=ticket, linked_at=utcnow(), linked_by_id=actor.id))
    db.session.flush()
    record_audit(actor, "opinion.link", f"opinion:{case.id}", {"ticket": ticket.tracking_no})
    return ticket


def unlink_ticket(case: OpinionCase, actor: User, tracking_no: str | None) -> Ticket:
    _require_manager(actor)
    if not case.is_open:
        raise InvalidTransition(_l("A closed case keeps its tickets."))
    ticket = _ticket_by_number(tracking_no)
    link = next((link for link in case.links if link.ticket_id == ticket.id), None)
    if link is None:
        raise ValidationFailed(_l("This ticket is not linked to the case."), field="tracking_no")
    case.links.remove(link)
    db.session.flush()
    record_audit(actor, "opinion.unlink", f"opinion:{case.id}", {"ticket": ticket.tracking_no})
    return ticket


# --- the stages ---------------------------------------------------------------------------------------------------


def lead_unit_choices() -> list[OrgUnit]:
    """Units that may lead a case: any active unit but the city and the hotline centre."""
    return list(
        db.session.execute(
            select(OrgUnit)
            .where(
                OrgUnit.active.is_(True),
                OrgUnit.kind.not_in([UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value]),
            )
            .order_by(OrgUnit.path)
        ).scalars()
    )


def analyse_case(
    case: OpinionCase,
    actor: User,
    *,
    level: str | None,
    lead_unit_id: int | None,
    deadline: date | None,
    analysis: str | None,
) -> OpinionCase:
    """研判: the level, the lead unit, the deadline and the analysis (may be revised until handling starts)."""
    _require_manager(actor)
    target = _require_stage(case, "analyse")
    problems = {}
    if level not in {lv.value for lv in CaseLevel}:
        problems["level"] = _l("Choose a level.")
    unit = db.session.get(OrgUnit, lead_unit_id) if lead_unit_id else None
    if unit is None or not unit.active or unit.kind in (UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value):
        problems["lead_unit_id"] = _l("Choose the lead unit.")
    if deadline is None or deadline < local_today():
        problems["deadline"] = _l("The deadline must be today or later.")
    text = (analysis or "").strip()
    if not text:
        problems["analysis"] = _l("The analysis is required.")
    if problems:
        raise ValidationFailed(fields=problems)
    case.level, case.lead_unit, case.deadline, case.analysis = level, unit, deadline, text
    case.stage = target.value
    case.analysed_at = utcnow()
    db.session.flush()
    record_audit(
        actor,
        "opinion.analyse",
        f"opinion:{case.id}",
        {"level": level, "lead_unit": unit.code if unit else None, "deadline": deadline},
    )
    return case


def start_handling(case: OpinionCase, actor: User) -> OpinionCase:
    """处置: the case goes to its lead unit."""
    _require_manager(actor)
    case.stage = _require_stage(case, "handle").value
    case.handling_at = utcnow()
    db.session.flush()
    record_audit(actor, "opinion.handle", f"opinion:{case.id}")
    return case


def add_handling_note(case: OpinionCase, actor: User, body: str | None) -> OpinionNote:
    """A handling note by a handler of the lead unit."""
    if not handles_opinion_case(actor, case):
        raise PermissionDenied(_l("Only the lead unit's handlers write handling notes."))
    _require_stage(case, "note")
    note = OpinionNote(
        case=case,
        unit_id=case.lead_unit_id,
        author_id=actor.id,
        body=_text(body, "body", 4000, _l("The note is empty.")),
        created_at=utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    record_audit(actor, "opinion.note", f"opinion:{case.id}")
    return note


def _scrub(case: OpinionCase, text: str) -> str:
    tickets = [link.ticket for link in case.links]
    return privacy.scrub_text(
        text,
        names=[t.citizen_name for t in tickets],
        phones=[t.citizen_phone for t in tickets],
        addresses=[t.address for t in tickets],
    )


def publish_response(
    case: OpinionCase, actor: User, *, title: str | None, body: str | None, confirmed: bool
) -> OpinionCase:
    """回应: the public response, published on the portal, scrubbed of personal data. The lead unit must have
    recorded its handling first, and the publisher confirms the text names no one."""
    _require_manager(actor)
    target = _require_stage(case, "respond")
    if not case.notes:
        raise InvalidTransition(_l("The lead unit has not recorded any handling yet."))
    checked_title = _text(title, "response_title", 200, _l("A title is required."))
    checked_body = _text(body, "response_body", 8000, _l("The response text is required."))
    if not confirmed:
        raise ValidationFailed(
            _l("Confirm that the text names no citizen and gives no phone or address."), field="confirm"
        )
    case.response_title = _scrub(case, checked_title)
    case.response_body = _scrub(case, checked_body)
    case.stage = target.value
    case.published_at = utcnow()
    db.session.flush()
    record_audit(actor, "opinion.respond", f"opinion:{case.id}")
    return case


def close_case(case: OpinionCase, actor: User, review: str | None) -> OpinionCase:
    """办结: the review of what was done and what was learnt."""
    _require_manager(actor)
    target = _require_stage(case, "close")
    case.review = _text(review, "review", 8000, _l("The review is required."))
    case.stage = target.value
    case.closed_at = utcnow()
    db.session.flush()
    record_audit(actor, "opinion.close", f"opinion:{case.id}")
    return case


# --- reading ------------------------------------------------------------------------------------------------------


def load_case(case_id: int) -> OpinionCase | None:
    """One case with everything its page shows (links and their tickets, notes and their units), loaded before
    the template renders."""
    return db.session.execute(
        select(OpinionCase)
        .where(OpinionCase.id == case_id)
        .options(
            joinedload(OpinionCase.lead_unit),
            joinedload(OpinionCase.category).joinedload(Category.parent),
            selectinload(OpinionCase.links).joinedload(OpinionCaseTicket.ticket),
            selectinload(OpinionCase.notes).joinedload(OpinionNote.unit),
        )
    ).scalar_one_or_none()


def _listed() -> Select[tuple[OpinionCase]]:
    return select(OpinionCase).options(joinedload(OpinionCase.lead_unit), selectinload(OpinionCase.links))


def visible_cases(user: User, stage: str | None = None) -> Select[tuple[OpinionCase]]:
    query = _listed().order_by(OpinionCase.created_at.desc(), OpinionCase.id.desc())
    scope = opinion_scope(user)
    if scope is not None:
        query = query.where(scope)
    if stage in {s.value for s in CaseStage}:
        query = query.where(OpinionCase.stage == stage)
    return query


def age_days(case: OpinionCase, today: date | None = None) -> int:
    return ((today or local_today()) - to_local(case.created_at).date()).days


def is_overdue(case: OpinionCase, today: date | None = None) -> bool:
    """Past its deadline and not yet answered in public."""
    return (
        case.deadline is not None
        and case.deadline < (today or local_today())
        and CaseStage(case.stage) in (CaseStage.ANALYSED, CaseStage.HANDLING)
    )


@dataclass(frozen=True)
class OverviewGroup:
    level: str | None  # None: not analysed yet
    cases: list[OpinionCase]
    overdue: int


def overview(today: date | None = None) -> list[OverviewGroup]:
    """Open cases by level (重大 first), oldest first within a level."""
    today = today or local_today()
    cases = db.session.execute(
        _listed()
        .where(OpinionCase.stage.in_([s.value for s in OPEN_STAGES]))
        .order_by(OpinionCase.created_at, OpinionCase.id)
    ).scalars()
    by_level: dict[str | None, list[OpinionCase]] = {}
    for case in cases:
        by_level.setdefault(case.level, []).append(case)
    order: list[str | None] = [CaseLevel.SERIOUS.value, CaseLevel.MAJOR.value, CaseLevel.GENERAL.value, None]
    return [
        OverviewGroup(level, by_level[level], sum(is_overdue(c, today) for c in by_level[level]))
        for level in order
        if level in by_level
    ]


@dataclass(frozen=True)
class Trend:
    days: list[date]
    linked: list[int]
    similar: list[int]  # same place and category, not linked

    @property
    def labels(self) -> list[str]:
        return [d.strftime("%m-%d") for d in self.days]


def trend(case: OpinionCase, today: date | None = None) -> Trend:
    """Tickets a day over the last 30 days: those linked to the case, and (for a case with a place and a
    category) the others at the same place in the same category."""
    today = today or local_today()
    days = [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    since = utcnow() - timedelta(days=TREND_DAYS + 1)
    linked_ids = {link.ticket_id for link in case.links}
    linked = Counter(to_local(link.ticket.created_at).date() for link in case.links)
    similar: Counter[date] = Counter()
    if case.place and case.category_id:
        rows = db.session.execute(
            select(Ticket.id, Ticket.created_at, Ticket.address).where(
                Ticket.category_id == case.category_id, Ticket.created_at >= since, Ticket.merged_into_id.is_(None)
            )
        ).tuples()
        for ticket_id, created_at, address in rows:
            if ticket_id not in linked_ids and place_key(address) == case.place:
                similar[to_local(created_at).date()] += 1
    return Trend(days, [linked[d] for d in days], [similar[d] for d in days])


# --- the public responses -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicResponse:
    """What the portal shows of a case: the published response only, scrubbed once more on the way out."""

    id: int
    title: str
    body: str
    published_at: datetime
    category: str | None
    lead_unit: str | None


def _published() -> Select[tuple[OpinionCase]]:
    return select(OpinionCase).where(
        OpinionCase.published_at.is_not(None),
        OpinionCase.stage.in_([CaseStage.RESPONDED.value, CaseStage.CLOSED.value]),
    )


def _public(case: OpinionCase) -> PublicResponse:
    assert case.published_at is not None
    return PublicResponse(
        id=case.id,
        title=privacy.scrub_text(case.response_title),
        body=privacy.scrub_text(case.response_body),
        published_at=case.published_at,
        category=case.category.name if case.category else None,
        lead_unit=case.lead_unit.name if case.lead_unit else None,
    )


def public_responses(limit: int = 100) -> list[PublicResponse]:
    query = (
        _published()
        .options(joinedload(OpinionCase.category), joinedload(OpinionCase.lead_unit))
        .order_by(OpinionCase.published_at.desc(), OpinionCase.id.desc())
        .limit(limit)
    )
    return [_public(c) for c in db.session.execute(query).scalars()]


def public_response(case_id: int) -> PublicResponse | None:
    case = db.session.execute(
        _published()
        .where(OpinionCase.id == case_id)
        .options(joinedload(OpinionCase.category), joinedload(OpinionCase.lead_unit))
    ).scalar_one_or_none()
    return _public(case) if case else None


def responses_for_tickets(tickets: list[Ticket]) -> list[tuple[int, str]]:
    """The published responses of the cases these tickets are linked to: (case id, title), for a tracking page
    (the citizen's ticket and, when merged, its master)."""
    rows = db.session.execute(
        _published()
        .with_only_columns(OpinionCase.id, OpinionCase.response_title, OpinionCase.published_at)
        .join(OpinionCaseTicket, OpinionCaseTicket.case_id == OpinionCase.id)
        .where(OpinionCaseTicket.ticket_id.in_({t.id for t in tickets}))
        .distinct()
        .order_by(OpinionCase.published_at)
    ).tuples()
    return [(case_id, privacy.scrub_text(title)) for case_id, title, _published_at in rows]


def covered_alerts(alert_ids: list[int]) -> set[int]:
    """Which of these hotspot alerts an open case already covers (same place and category)."""
    if not alert_ids:
        return set()
    open_places = select(OpinionCase.id).where(
        OpinionCase.place == HotspotAlertRow.place,
        OpinionCase.category_id == HotspotAlertRow.category_id,
        OpinionCase.stage.in_([s.value for s in OPEN_STAGES]),
    )
    return set(
        db.session.execute(
            select(HotspotAlertRow.id).where(HotspotAlertRow.id.in_(alert_ids), open_places.exists())
        ).scalars()
    )
