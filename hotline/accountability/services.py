"""The rules of an accountability case (责任追究): who opens one and from what, the unit's rectification report,
the supervisor's review, the deadlines, and the per-unit counts the assessment reads.

Every change is audited (``accountability.open`` / ``.report`` / ``.review`` / ``.remind``) and tells the
people concerned in-app. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from hotline import permissions
from hotline.accountability.models import (
    AWAITING_REPORT,
    AccountabilityCase,
    CaseMeasure,
    CaseOrigin,
    CaseStatus,
)
from hotline.accounts.models import User
from hotline.core.audit import record_audit
from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.notify.services import notify_users
from hotline.orgs.models import OrgUnit
from hotline.sla.deadlines import deadline_after, extension_deadline
from hotline.sla.models import SupervisionOrder
from hotline.sla.policy import WD
from hotline.tickets.models import Assignment, Ticket, TicketEvent

# The ticket events that make a ticket an eligible origin.
ORIGIN_EVENTS = {CaseOrigin.RED_CARD.value: "red_card", CaseOrigin.REDO.value: "rate_unsatisfied"}

REPORT_WORKING_DAYS = 10  # the unit's rectification report is due within (ACCOUNTABILITY_REPORT_WORKING_DAYS)
REVIEW_WORKING_DAYS = 5  # the supervisor reviews it within (ACCOUNTABILITY_REVIEW_WORKING_DAYS)
MAX_TEXT = 4000
MAX_NAME = 80


def report_days() -> int:
    return int(current_app.config.get("ACCOUNTABILITY_REPORT_WORKING_DAYS", REPORT_WORKING_DAYS))


def review_days() -> int:
    return int(current_app.config.get("ACCOUNTABILITY_REVIEW_WORKING_DAYS", REVIEW_WORKING_DAYS))


def default_report_due(now: datetime | None = None) -> datetime:
    return deadline_after(now or utcnow(), report_days(), WD).at


def default_review_due(report_due: datetime) -> datetime:
    return deadline_after(report_due, review_days(), WD).at


# --- what a ticket qualifies for (read from what its page loaded) -------------------------------------------


def ticket_origins(ticket: Ticket) -> list[str]:
    """The ticket-level origins ``ticket`` qualifies for, from its loaded history: a red card was shown, or
    the citizen was unsatisfied and the ticket was redone."""
    actions = {event.action for event in ticket.events}
    return [origin for origin, action in ORIGIN_EVENTS.items() if action in actions]


def ticket_units(ticket: Ticket) -> list[OrgUnit]:
    """The units a case on ``ticket`` may be opened against: every unit it was assigned to, the lead unit first."""
    units = {a.unit.id: a.unit for a in sorted(ticket.assignments, key=lambda a: (a.role != "lead", a.id))}
    if ticket.lead_unit is not None:
        units = {ticket.lead_unit.id: ticket.lead_unit, **units}
    return list(units.values())


# --- opening ----------------------------------------------------------------------------------------------------


@dataclass
class CaseInput:
    origin: str
    unit: OrgUnit | None
    findings: str
    measure: str
    ticket: Ticket | None = None
    order: SupervisionOrder | None = None
    official_name: str | None = None
    report_due: date | None = None  # the end of that day (a day off: the next working day); None: the default
    review_due: date | None = None


def _text(value: str | None, field: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_l("This field is required."), field=field)
    if len(text) > limit:
        raise ValidationFailed(_l("At most %(n)d characters.", n=limit), field=field)
    return text or None


def _had_event(ticket: Ticket, action: str) -> bool:
    return (
        db.session.execute(
            select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action).limit(1)
        ).first()
        is not None
    )


def _was_assigned(ticket: Ticket, unit: OrgUnit) -> bool:
    return (
        db.session.execute(
            select(Assignment.id).where(Assignment.ticket_id == ticket.id, Assignment.unit_id == unit.id).limit(1)
        ).first()
        is not None
    )


def _check_origin(data: CaseInput) -> tuple[Ticket | None, OrgUnit]:
    """The ticket and unit of an eligible origin, or a clear refusal."""
    if data.origin not in {o.value for o in CaseOrigin}:
        raise ValidationFailed(_l("Choose what the case arises from."), field="origin")
    if data.origin == CaseOrigin.SUPERVISION_ORDER.value:
        order = data.order
        if order is None:
            raise NotFound(_l("No such supervision order."))
        if data.ticket is not None and data.ticket.id != order.ticket_id:
            raise ValidationFailed(_l("The supervision order is not about this ticket."), field="origin")
        if data.unit is not None and data.unit.id != order.unit_id:
            raise ValidationFailed(
                _l("A case from a supervision order is against the unit it was issued to."), field="unit"
            )
        return db.session.get(Ticket, order.ticket_id), order.unit
    ticket = data.ticket
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if not _had_event(ticket, ORIGIN_EVENTS[data.origin]):
        raise InvalidTransition(
            _l("Ticket %(no)s never had a red card: no case can arise from one.", no=ticket.tracking_no)
            if data.origin == CaseOrigin.RED_CARD.value
            else _l(
                "Ticket %(no)s was never rated unsatisfied and redone: no case can arise from a redo.",
                no=ticket.tracking_no,
            )
        )
    unit = data.unit
    if unit is None:
        raise ValidationFailed(_l("Choose the unit held to account."), field="unit")
    if not _was_assigned(ticket, unit):
        raise ValidationFailed(
            _l("%(unit)s never worked on ticket %(no)s.", unit=unit.name, no=ticket.tracking_no), field="unit"
        )
    return ticket, unit


MAX_DAYS_AHEAD = 366  # a deadline further out is a typing slip (and past the calendar's years)


def _day(day: date | None, now: datetime, field: str) -> date | None:
    if day is not None and not 0 <= (day - to_local(now).date()).days <= MAX_DAYS_AHEAD:
        raise ValidationFailed(_l("Pick a day within the coming year."), field=field)
    return day


def _deadlines(now: datetime, report_day: date | None, review_day: date | None) -> tuple[datetime, datetime]:
    report_day, review_day = _day(report_day, now, "report_due"), _day(review_day, now, "review_due")
    report_due = extension_deadline(report_day).at if report_day else default_report_due(now)
    if report_due <= now:
        raise ValidationFailed(_l("The report deadline must be in the future."), field="report_due")
    review_due = extension_deadline(review_day).at if review_day else default_review_due(report_due)
    if review_due <= report_due:
        raise ValidationFailed(_l("The review deadline must come after the report deadline."), field="review_due")
    return report_due, review_due


def _unit_staff(unit: OrgUnit) -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.org_unit_id == unit.id, User.active.is_(True)).order_by(User.id)
        ).scalars()
    )


def _payload(case: AccountabilityCase) -> dict[str, object]:
    """What a notification about ``case`` says: numbers, codes and times, never the official's name."""
    return {
        "case": case.id,
        "unit": case.unit.name,
        "tracking_no": case.ticket.tracking_no if case.ticket else "",
        "measure": case.measure,
        "report_due": to_local(case.report_due_at).strftime("%Y-%m-%d %H:%M"),
    }


def _audit(actor: User | str, action: str, case: AccountabilityCase, **detail: object) -> None:
    record_audit(
        actor,
        action,
        f"case {case.id}",
        {
            "unit": case.unit.code,
            "ticket": case.ticket.tracking_no if case.ticket else None,
            "status": case.status,
            **detail,
        },
    )


def open_case(actor: User, data: CaseInput) -> AccountabilityCase:
    """A supervisor over the unit opens a case from an eligible origin; the unit's staff are told."""
    ticket, unit = _check_origin(data)
    if not permissions.holds_unit_accountable(actor, unit):
        raise PermissionDenied(_l("Only a supervisor over %(unit)s may hold it to account.", unit=unit.name))
    if data.measure not in {m.value for m in CaseMeasure}:
        raise ValidationFailed(_l("Choose the measure."), field="measure")
    findings = _text(data.findings, "findings")
    official = _text(data.official_name, "official_name", required=False, limit=MAX_NAME)
    now = utcnow()
    report_due, review_due = _deadlines(now, data.report_due, data.review_due)
    order = data.order if data.origin == CaseOrigin.SUPERVISION_ORDER.value else None
    open_twin = db.session.execute(
        select(AccountabilityCase.id)
        .where(
            AccountabilityCase.unit_id == unit.id,
            AccountabilityCase.origin == data.origin,
            AccountabilityCase.status != CaseStatus.CLOSED.value,
            AccountabilityCase.supervision_order_id == order.id
            if order is not None
            else AccountabilityCase.ticket_id == (ticket.id if ticket is not None else None),
        )
        .limit(1)
    ).scalar()
    if open_twin is not None:
        raise InvalidTransition(
            _l("Case %(id)d on the same origin against %(unit)s is still open.", id=open_twin, unit=unit.name)
        )
    case = AccountabilityCase(
        unit=unit,
        official_name=official,
        origin=data.origin,
        ticket=ticket,
        supervision_order=order,
        findings=findings,
        measure=data.measure,
        status=CaseStatus.OPENED.value,
        report_due_at=report_due,
        review_due_at=review_due,
        opened_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(case)
    db.session.flush()
    _audit(
        actor,
        "accountability.open",
        case,
        origin=case.origin,
        measure=case.measure,
        official_named=official is not None,
        report_due=to_local(report_due).isoformat(),
        review_due=to_local(review_due).isoformat(),
    )
    notify_users(_unit_staff(unit), "accountability_opened", ticket=ticket, payload=_payload(case))
    return case


# --- the unit's report and the supervisor's review ---------------------------------------------------------------


def submit_report(case: AccountabilityCase, actor: User, report: str) -> AccountabilityCase:
    """The unit's handler submits the rectification report; the supervisor who opened the case is told. A
    report after the review deadline gives the review its usual working days from now."""
    if not permissions.reports_on_case(actor, case):
        raise PermissionDenied(_l("Only a handler of %(unit)s may report on this case.", unit=case.unit.name))
    if case.status not in AWAITING_REPORT:
        raise InvalidTransition(_l("This case is not waiting for a report."))
    text = _text(report, "report")
    now = utcnow()
    late = case.report_due_at < now
    case.report, case.report_submitted_at, case.report_by_id = text, now, actor.id
    case.status, case.updated_at = CaseStatus.REPORT_SUBMITTED.value, now
    if case.review_due_at <= now:
        case.review_due_at = deadline_after(now, review_days(), WD).at
    db.session.flush()
    _audit(actor, "accountability.report", case, late=late)
    notify_users([case.opened_by], "accountability_report", ticket=case.ticket, payload=_payload(case))
    return case


def review_case(
    case: AccountabilityCase, actor: User, accept: bool, note: str | None, new_report_due: date | None = None
) -> AccountabilityCase:
    """The supervisor accepts the report (the case is closed) or returns it with a reason and a new report
    deadline (by default the usual working days from now; the review follows it by its own)."""
    if not permissions.holds_unit_accountable(actor, case.unit):
        raise PermissionDenied(_l("Only a supervisor over %(unit)s may review this case.", unit=case.unit.name))
    if case.status != CaseStatus.REPORT_SUBMITTED.value:
        raise InvalidTransition(_l("This case has no report waiting for review."))
    text = _text(note, "note", required=not accept)
    now = utcnow()
    late = case.review_due_at < now
    case.review_note, case.reviewed_at, case.reviewed_by_id, case.updated_at = text, now, actor.id, now
    if accept:
        case.status = CaseStatus.CLOSED.value
    else:
        case.report_due_at, case.review_due_at = _deadlines(now, new_report_due, None)
        case.status, case.overdue_notified_at = CaseStatus.RETURNED.value, None
    db.session.flush()
    _audit(actor, "accountability.review", case, accepted=accept, late=late)
    notify_users(
        _unit_staff(case.unit),
        "accountability_closed" if accept else "accountability_returned",
        ticket=case.ticket,
        payload=_payload(case),
    )
    return case


# --- deadlines ---------------------------------------------------------------------------------------------------


def remind_overdue_reports(now: datetime | None = None) -> int:
    """Tell each unit once that its rectification report is overdue (and the supervisor who opened the case);
    idempotent: a case is reminded again only after a new deadline. Returns the cases reminded."""
    now = now or utcnow()
    due = (
        db.session.execute(
            select(AccountabilityCase)
            .where(
                AccountabilityCase.status.in_(AWAITING_REPORT),
                AccountabilityCase.report_due_at < now,
                AccountabilityCase.overdue_notified_at.is_(None),
            )
            .order_by(AccountabilityCase.id)
        )
        .scalars()
        .all()
    )
    for case in due:
        case.overdue_notified_at = now
        recipients = {u.id: u for u in [*_unit_staff(case.unit), case.opened_by]}
        notify_users(recipients.values(), "accountability_overdue", ticket=case.ticket, payload=_payload(case))
        _audit("system", "accountability.remind", case)
    db.session.flush()
    return len(due)


# --- the assessment's count ---------------------------------------------------------------------------------


def case_counts(unit_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, int]:
    """Cases opened against each unit in [start, end) (naive UTC), for the assessment (考核): every unit asked
    about has an entry, 0 when it had none. Only the unit itself, not its subtree."""
    counts = dict.fromkeys(unit_ids, 0)
    if not counts:
        return counts
    rows = db.session.execute(
        select(AccountabilityCase.unit_id, func.count())
        .where(
            AccountabilityCase.unit_id.in_(list(counts)),
            AccountabilityCase.created_at >= start,
            AccountabilityCase.created_at < end,
        )
        .group_by(AccountabilityCase.unit_id)
    ).all()
    for unit_id, count in rows:
        counts[unit_id] = int(count)
    return counts
