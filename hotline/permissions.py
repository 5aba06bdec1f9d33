"""What a user may do, in one place: named predicates used by views, services, queries, the API and templates
(as Jinja globals), and ``TABLE``, the declarative summary the access-matrix test iterates (docs/security.md,
"Permissions"). Pure predicates run no SQL beyond the objects already loaded, except ``can_read`` (one row).

Models never import this module; it imports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, or_, select

from hotline.accountability.models import AccountabilityCase
from hotline.accounts.models import HOTLINE_ROLES, Role, User
from hotline.archive.models import ArchivedTicket
from hotline.cti.models import Call
from hotline.extensions import db
from hotline.interviews.models import InterviewSession
from hotline.opinion.models import OpinionCase
from hotline.orgs.models import OrgUnit
from hotline.orgs.services import subtree_ids
from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, AssignmentRole, AssignmentStatus, Ticket
from hotline.tickets.validation import normalise_phone
from hotline.tickets.workflow import OPEN_STATUSES, Scope, Status, Transition

_HOTLINE = {r.value for r in HOTLINE_ROLES}


# --- reading tickets: the one scope rule, as SQL (lists) and as a row check (a ticket's page) ------------------


def _at_units(unit_ids: Select[tuple[int]], open_work: bool = False) -> ColumnElement[bool]:
    assignments = select(Assignment.ticket_id).where(
        Assignment.unit_id.in_(unit_ids), Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)
    )
    if open_work:  # the rows of open work alone (ix_assignment_open_work), not the unit's years of history
        assignments = assignments.where(Assignment.ticket_open)
    return Ticket.id.in_(assignments)


def ticket_scope(user: User, open_work: bool = False) -> ColumnElement[bool] | None:
    """The one rule of which tickets ``user`` may read, as a condition on ``Ticket``; None: every ticket.
    ``open_work``: the same rule for a query that reads open tickets only, on the assignments of open tickets.

    - hotline roles (operator, dispatcher, supervisor, admin) scoped to the city: every ticket;
      scoped lower: tickets taken in by a unit of their subtree or actively assigned to one;
    - a handler: tickets actively assigned to a unit of their subtree, whether it leads (主办) or assists
      (协办), and tickets passed down to a unit below it;
    - a citizen account: its own appeals, whatever channel registered them: those filed while signed in and
      every appeal made from the account's phone (a call an operator registered, the web, the API, Open311).
      The account's phone is set by staff or an import, never by the citizen (docs/security.md, "Citizen
      accounts").
    """
    conditions = []
    for role in user.roles:
        if role.role in _HOTLINE and role.scope_unit.parent_id is None:
            return None  # the whole city: no filter, so lists stay index-friendly at scale
        units = subtree_ids(role.scope_unit)
        if role.role in _HOTLINE:
            conditions += [Ticket.intake_unit_id.in_(units), _at_units(units, open_work)]
        elif role.role == Role.HANDLER.value:
            conditions.append(_at_units(units, open_work))
        elif role.role == Role.CITIZEN.value:
            conditions.append(Ticket.citizen_user_id == user.id)
            phone = normalise_phone(user.phone)
            if phone:
                conditions.append(Ticket.citizen_phone == phone)
    return or_(*conditions) if conditions else false()


def in_scope_query(query: Select[Any], user: User, open_work: bool = False) -> Select[Any]:
    """``query`` (on ``Ticket``) narrowed to what ``user`` may read: every list, search, export and API filter.
    ``open_work``: ``query`` reads open tickets only (``ticket_scope``)."""
    scope = ticket_scope(user, open_work)
    return query if scope is None else query.where(scope)


def can_read(user: User, ticket: Ticket) -> bool:
    """The ticket page, and anything that acts on a ticket named by its number: ``ticket_scope`` on one row."""
    scope = ticket_scope(user)
    return (
        scope is None or db.session.execute(select(Ticket.id).where(Ticket.id == ticket.id, scope)).first() is not None
    )


def archived_appeal_scope(user: User) -> ColumnElement[bool]:
    """A citizen account's own archived appeals, as a condition on ``ArchivedTicket``: ``ticket_scope``'s
    citizen branch (filed while signed in, or made from the account's phone); nothing for other roles."""
    if not user.has_role(Role.CITIZEN):
        return false()
    conditions = [ArchivedTicket.citizen_user_id == user.id]
    phone = normalise_phone(user.phone)
    if phone:
        conditions.append(ArchivedTicket.citizen_phone == phone)
    return or_(*conditions)


# --- the archive of closed tickets (hotline.archive, docs/operations.md "Retention and the archive") ----------


def _city_wide(user: User, *roles: Role) -> bool:
    return any(unit.parent_id is None for unit in user.scopes(*roles))


def can_search_archive(user: User) -> bool:
    """The archive's page and its files: admins and supervisors scoped to the whole city. Archived rows are
    outside the working tables, so ``ticket_scope`` (units, assignments) cannot be applied to them: a role
    scoped lower sees none of them rather than all."""
    return _city_wide(user, Role.ADMIN, Role.SUPERVISOR)


def can_restore_archive(user: User) -> bool:
    """Put an archived ticket back into the working tables (as ``flask archive restore``): a city-wide admin."""
    return _city_wide(user, Role.ADMIN)


# --- roles without a ticket -----------------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    """Hotline centre staff (operator, dispatcher, supervisor, admin)."""
    return user.is_hotline_staff


def can_administer(user: User) -> bool:
    """Admin pages: users, units, categories, SLA policies, the knowledge base, imports, the audit log."""
    return user.has_role(Role.ADMIN)


def can_supervise(user: User) -> bool:
    """督办: urge and supervise tickets, decide extension and suspension requests."""
    return user.has_role(Role.SUPERVISOR)


def supervises_ticket(user: User, ticket: Ticket) -> bool:
    """A supervisor over the ticket's intake unit or a unit it is at: 催办, 督办单, deciding its extension and
    suspension requests."""
    units = [ticket.intake_unit, *(a.unit for a in ticket.active_assignments())]
    return can_supervise(user) and any(user.in_scope(u, Role.SUPERVISOR) for u in units)


def is_citizen(user: User) -> bool:
    """A citizen's portal account: it follows its own appeals."""
    return user.has_role(Role.CITIZEN)


def is_evaluator(user: User) -> bool:
    """An invited evaluator (人大代表 / 政协委员): rates any unit in the 社会监督评议 (hotline.evaluation)."""
    return user.has_role(Role.EVALUATOR)


def can_evaluate(user: User) -> bool:
    """Takes part in the 社会监督评议: a citizen account (the units of its appeals) or an evaluator (any unit)."""
    return user.has_role(Role.CITIZEN, Role.EVALUATOR)


def can_register_calls(user: User) -> bool:
    return user.has_role(Role.OPERATOR)


def can_wrap_up_call(user: User, call: Call) -> bool:
    """Wrap up a call that ended without a ticket (record it as a direct answer, mark an abandoned one called
    back or dismissed): the operator it was answered or rang at, nobody else; a call abandoned in the queue
    before reaching anyone is every operator's. Supervisors see the figures."""
    if not can_register_calls(user):
        return False
    if call.operator_id is None:
        return call.abandoned
    return call.operator_id == user.id


def can_dispatch(user: User) -> bool:
    return user.has_role(Role.DISPATCHER)


def can_handle(user: User) -> bool:
    """A unit's handler: the workspace, extension and suspension requests."""
    return user.has_role(Role.HANDLER)


def can_see_dashboard(user: User) -> bool:
    return user.has_role(Role.SUPERVISOR, Role.ADMIN)


# --- 考核: the assessment of units (hotline/assessment, docs/assessment.md) -----------------------------------


def can_see_assessment(user: User) -> bool:
    """The assessment pages: supervisors and admins see every unit, a handler their own units."""
    return user.has_role(Role.HANDLER, Role.SUPERVISOR, Role.ADMIN)


def can_run_assessment(user: User) -> bool:
    """Create periods, set their weights, close, recompute (audited) and release them."""
    return user.has_role(Role.ADMIN)


def can_decide_objection(user: User) -> bool:
    """Uphold or reject a unit's objection (申诉) to a ticket's counting."""
    return user.has_role(Role.SUPERVISOR)


def sees_assessment_of(user: User, unit: OrgUnit) -> bool:
    """One unit's assessment figures: a supervisor or admin over it, or a handler of it (or a unit above it)."""
    return user.in_scope(unit, Role.SUPERVISOR, Role.ADMIN, Role.HANDLER)


def can_object_for(user: User, unit: OrgUnit) -> bool:
    """File an objection for ``unit``: a handler of it."""
    return handles_unit(user, unit)


# --- online interviews and press conferences (hotline.interviews) --------------------------------------------

_INTERVIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.HANDLER)


def can_run_interviews(user: User) -> bool:
    """The staff list of interviews and press conferences: admins and supervisors (every session in their scope)
    and units' handlers (their units' sessions)."""
    return user.has_role(*_INTERVIEW_ROLES)


def can_schedule_interviews(user: User) -> bool:
    """Schedule a session for a unit in one's scope: admins and supervisors."""
    return user.has_role(Role.ADMIN, Role.SUPERVISOR)


def manages_interview(user: User, session: InterviewSession) -> bool:
    """Moderate a session's questions, start and end it, publish answers and the transcript: an admin or a
    supervisor whose scope holds the session's unit, or a handler of that unit (or of a unit above it)."""
    return user.in_scope(session.unit, *_INTERVIEW_ROLES)


def interview_scope(user: User) -> ColumnElement[bool] | None:
    """Which sessions the staff list shows ``user`` (those ``manages_interview`` allows), as a condition on
    ``InterviewSession``; None: every session."""
    conditions = []
    for unit in user.scopes(*_INTERVIEW_ROLES):
        if unit.parent_id is None:
            return None
        conditions.append(InterviewSession.unit_id.in_(subtree_ids(unit)))
    return or_(*conditions) if conditions else false()


# --- work on one ticket ---------------------------------------------------------------------------------------


def can_see_contact(user: User) -> bool:
    """Hotline staff see who called (and may reveal the full number, logged); units see a masked phone and
    never a confidential caller."""
    return user.is_hotline_staff


def can_reveal_contact(user: User, ticket: Ticket) -> bool:
    """The caller's full phone and name: hotline staff whose scope holds the unit that took the ticket in."""
    return user.is_hotline_staff and user.in_scope(ticket.intake_unit, *HOTLINE_ROLES)


def can_note(user: User, ticket: Ticket) -> bool:
    """An internal progress note: an open ticket, a handler or hotline staff over its intake or working units."""
    units = [ticket.intake_unit, *(a.unit for a in ticket.active_assignments())]
    return Status(ticket.status) in OPEN_STATUSES and any(
        user.in_scope(unit, Role.HANDLER, *HOTLINE_ROLES) for unit in units
    )


def handles_unit(user: User, unit: OrgUnit | None) -> bool:
    """The user is a handler of ``unit`` (their handler scope contains it)."""
    return user.in_scope(unit, Role.HANDLER)


def answers_supervision(user: User, record: Any) -> bool:
    """The 催办 or 督办单 ``record`` was pressed on a unit the user handles."""
    return handles_unit(user, record.unit)


def assisting_assignments(user: User, ticket: Ticket) -> list[Assignment]:
    """The active assisting (协办) assignments of ``ticket`` at the user's handler units."""
    return [
        a for a in ticket.active_assignments() if a.role == AssignmentRole.ASSIST.value and handles_unit(user, a.unit)
    ]


def can_opine(user: User, ticket: Ticket) -> bool:
    """An assisting unit that has not sent its opinion yet."""
    return any(a.status != AssignmentStatus.ANSWERED.value for a in assisting_assignments(user, ticket))


def act_units(scope: Scope, ticket: Ticket) -> list[OrgUnit]:
    """The units of ``ticket`` that an actor's role scope must contain."""
    active = ticket.active_assignments()
    if scope is Scope.LEAD:
        return [a.unit for a in active if a.role == AssignmentRole.LEAD.value]
    if scope is Scope.ANY:
        return [ticket.intake_unit, *(a.unit for a in active)]
    return [ticket.intake_unit]


def act_refusal(user: User, ticket: Ticket, transition: Transition) -> LazyString | None:
    """Why ``user`` may not apply ``transition`` to ``ticket`` (a message for ``PermissionDenied``), or None.

    A citizen acts on their own appeals only; staff need one of the transition's roles over its units."""
    roles = [Role(r) for r in transition.actors if r in Role._value2member_map_]
    if Role.CITIZEN in roles and ticket.citizen_user_id is not None and ticket.citizen_user_id == user.id:
        return None
    roles = [r for r in roles if r is not Role.CITIZEN]
    if not roles or not user.has_role(*roles):
        return _l("Your role may not do this.")
    if not any(user.in_scope(unit, *roles) for unit in act_units(transition.scope, ticket)):
        return _l("This ticket is outside your units.")
    return None


def can_act(user: User, ticket: Ticket, transition: Transition) -> bool:
    """Role and scope of a workflow transition (the workflow engine also checks the ticket's status)."""
    return act_refusal(user, ticket, transition) is None


# --- accountability cases (责任追究) ----------------------------------------------------------------------------


def can_see_accountability(user: User) -> bool:
    """The accountability case lists: supervisors (the cases they may open and review) and handlers (their own
    units' cases)."""
    return user.has_role(Role.SUPERVISOR, Role.HANDLER)


def holds_unit_accountable(user: User, unit: OrgUnit | None) -> bool:
    """Open an accountability case against ``unit`` and review its rectification reports: a supervisor whose
    scope holds the unit."""
    return user.in_scope(unit, Role.SUPERVISOR)


def reports_on_case(user: User, case: AccountabilityCase) -> bool:
    """Submit the rectification report of ``case``: a handler of the unit held to account."""
    return handles_unit(user, case.unit)


def can_read_case(user: User, case: AccountabilityCase) -> bool:
    """One case's page: a supervisor over its unit or a handler of it (others get 404, as for a ticket)."""
    return holds_unit_accountable(user, case.unit) or reports_on_case(user, case)


def can_see_official(user: User) -> bool:
    """The name of the official a case holds to account: personal data, hotline staff only (never the unit's
    pages, a notification or anything public)."""
    return user.is_hotline_staff


def case_scope(user: User) -> ColumnElement[bool] | None:
    """The cases ``user`` may list, as a condition on ``AccountabilityCase`` (None: every case): those of the
    units in the subtrees of the user's supervisor and handler scopes."""
    scopes = user.scopes(Role.SUPERVISOR, Role.HANDLER)
    if any(unit.parent_id is None for unit in scopes):
        return None
    conditions = [AccountabilityCase.unit_id.in_(subtree_ids(unit)) for unit in scopes]
    return or_(*conditions) if conditions else false()


# --- opinion cases (舆情, docs/opinion.md) -----------------------------------------------------------------------


def can_manage_opinion(user: User) -> bool:
    """Open, link, analyse (研判), hand over, publish the response (回应) and close opinion cases."""
    return user.has_role(Role.SUPERVISOR, Role.DISPATCHER)


def can_see_opinion_cases(user: User) -> bool:
    """The case list: hotline staff (every case) and handlers (the cases their units lead)."""
    return user.is_hotline_staff or user.has_role(Role.HANDLER)


def can_oversee_opinion(user: User) -> bool:
    """The overview of open cases by level and age."""
    return user.has_role(Role.SUPERVISOR, Role.ADMIN)


def opinion_scope(user: User) -> ColumnElement[bool] | None:
    """Which cases ``user`` may read, as a condition on ``OpinionCase``; None: every case. Hotline staff read
    every case; a handler the cases led by a unit of their subtree."""
    if user.is_hotline_staff:
        return None
    conditions = [
        OpinionCase.lead_unit_id.in_(subtree_ids(role.scope_unit))
        for role in user.roles
        if role.role == Role.HANDLER.value
    ]
    return or_(*conditions) if conditions else false()


def reads_opinion_case(user: User, case: OpinionCase) -> bool:
    """One case's page: hotline staff, or a handler over its lead unit."""
    return user.is_hotline_staff or handles_opinion_case(user, case)


def handles_opinion_case(user: User, case: OpinionCase) -> bool:
    """Handling notes (处置): a handler of the case's lead unit (or a unit above it)."""
    return case.lead_unit is not None and user.in_scope(case.lead_unit, Role.HANDLER)


# --- the table the access-matrix test reads -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A predicate's declared answer: ``roles`` any of which grants it (``None``: see ``scope``), ``scope``:
    the ticket rule that also applies ("" none, "read" ``ticket_scope``, "intake" the intake unit, "assist"
    an assisting unit, "supervise" a supervisor's scope over one of its units, "call" the user's own call or
    one abandoned in the queue, "unit" the user's scope over the ticket's lead unit, "opinion" an opinion
    case's lead unit, "interview" a session's unit in the user's scope),
    and ``pages``: endpoints guarded by it."""

    roles: frozenset[str] | None
    scope: str = ""
    pages: tuple[str, ...] = ()


_HOTLINE_NAMES = frozenset(_HOTLINE)

TABLE: dict[str, Rule] = {
    "can_administer": Rule(frozenset({Role.ADMIN.value}), pages=("admin.users", "knowledge.edit")),
    "can_supervise": Rule(frozenset({Role.SUPERVISOR.value}), pages=("sla.requests_queue",)),
    "is_citizen": Rule(frozenset({Role.CITIZEN.value})),
    "is_evaluator": Rule(frozenset({Role.EVALUATOR.value})),
    "can_evaluate": Rule(frozenset({Role.CITIZEN.value, Role.EVALUATOR.value}), pages=("evaluation.mine",)),
    "can_register_calls": Rule(frozenset({Role.OPERATOR.value}), pages=("intake.register_call",)),
    "can_wrap_up_call": Rule(frozenset({Role.OPERATOR.value}), scope="call"),
    "can_dispatch": Rule(frozenset({Role.DISPATCHER.value}), pages=("queues.dispatch",)),
    "can_handle": Rule(frozenset({Role.HANDLER.value}), pages=("queues.workspace",)),
    "can_see_dashboard": Rule(frozenset({Role.SUPERVISOR.value, Role.ADMIN.value}), pages=("dashboard.index",)),
    "is_staff": Rule(_HOTLINE_NAMES, pages=("knowledge.index",)),
    "can_see_contact": Rule(_HOTLINE_NAMES),
    "can_read": Rule(None, scope="read", pages=("tickets.detail",)),
    "can_reveal_contact": Rule(_HOTLINE_NAMES, scope="intake", pages=("tickets.reveal",)),
    "can_note": Rule(frozenset({Role.HANDLER.value, *_HOTLINE_NAMES}), scope="read"),
    "can_opine": Rule(frozenset({Role.HANDLER.value}), scope="assist"),
    "supervises_ticket": Rule(frozenset({Role.SUPERVISOR.value}), scope="supervise"),
    "can_see_assessment": Rule(
        frozenset({Role.HANDLER.value, Role.SUPERVISOR.value, Role.ADMIN.value}), pages=("assessment.index",)
    ),
    "can_run_assessment": Rule(frozenset({Role.ADMIN.value}), pages=("assessment.new_period",)),
    "can_decide_objection": Rule(frozenset({Role.SUPERVISOR.value}), pages=("assessment.decide",)),
    "can_see_accountability": Rule(
        frozenset({Role.SUPERVISOR.value, Role.HANDLER.value}), pages=("accountability.index",)
    ),
    "holds_unit_accountable": Rule(frozenset({Role.SUPERVISOR.value}), scope="unit"),
    "can_manage_opinion": Rule(frozenset({Role.SUPERVISOR.value, Role.DISPATCHER.value}), pages=("opinion.new_case",)),
    "can_see_opinion_cases": Rule(frozenset({Role.HANDLER.value, *_HOTLINE_NAMES}), pages=("opinion.index",)),
    "can_oversee_opinion": Rule(frozenset({Role.SUPERVISOR.value, Role.ADMIN.value}), pages=("opinion.overview",)),
    "reads_opinion_case": Rule(frozenset({Role.HANDLER.value, *_HOTLINE_NAMES}), scope="opinion"),
    "handles_opinion_case": Rule(frozenset({Role.HANDLER.value}), scope="opinion"),
    "can_run_interviews": Rule(
        frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.HANDLER.value}), pages=("interviews.index",)
    ),
    "can_schedule_interviews": Rule(frozenset({Role.ADMIN.value, Role.SUPERVISOR.value}), pages=("interviews.new",)),
    "manages_interview": Rule(
        frozenset({Role.ADMIN.value, Role.SUPERVISOR.value, Role.HANDLER.value}), scope="interview"
    ),
    # city-wide scope only (the access matrix's supervisor and admin are the city's)
    "can_search_archive": Rule(
        frozenset({Role.ADMIN.value, Role.SUPERVISOR.value}), pages=("archive.index", "archive.detail")
    ),
    "can_restore_archive": Rule(frozenset({Role.ADMIN.value}), pages=("archive.restore",)),
}

# Jinja globals: the predicates templates may call (on objects the view has loaded).
TEMPLATE_GLOBALS = (
    "can_administer",
    "can_supervise",
    "can_register_calls",
    "can_dispatch",
    "can_handle",
    "can_see_dashboard",
    "is_staff",
    "handles_unit",
    "can_see_contact",
    "can_reveal_contact",
    "can_note",
    "can_opine",
    "can_see_assessment",
    "can_run_assessment",
    "can_decide_objection",
    "can_see_accountability",
    "can_see_official",
    "can_evaluate",
    "can_see_opinion_cases",
    "can_manage_opinion",
    "can_oversee_opinion",
    "can_run_interviews",
    "can_schedule_interviews",
    "manages_interview",
    "can_search_archive",
    "can_restore_archive",
)


def register(app: Flask) -> None:
    app.jinja_env.globals.update({name: globals()[name] for name in TEMPLATE_GLOBALS})
