"""Which tickets a user may see, as one query for lists and one check for a single ticket."""
from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from hotline.accounts.models import HOTLINE_ROLES, Role, User
from hotline.orgs.services import subtree_ids
from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, Ticket

_HOTLINE = {r.value for r in HOTLINE_ROLES}


def _at_units(unit_ids):
    return Ticket.id.in_(select(Assignment.ticket_id).where(
        Assignment.unit_id.in_(unit_ids), Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)))


def visible_tickets(user: User) -> Select:
    """Tickets at the user's units: hotline staff by intake or assignment, units by active assignment."""
    conditions = []
    for role in user.roles:
        units = subtree_ids(role.scope_unit)
        if role.role in _HOTLINE:
            conditions += [Ticket.intake_unit_id.in_(units), _at_units(units)]
        elif role.role == Role.HANDLER.value:
            conditions.append(_at_units(units))
        elif role.role == Role.CITIZEN.value:
            conditions.append(Ticket.citizen_user_id == user.id)
    return select(Ticket).where(or_(*conditions) if conditions else false())


def can_view(user: User, ticket: Ticket) -> bool:
    units = [a.unit for a in ticket.active_assignments()]
    for role in user.roles:
        if role.role in _HOTLINE and any(role.scope_unit.contains(u) for u in [ticket.intake_unit, *units]):
            return True
        if role.role == Role.HANDLER.value and any(role.scope_unit.contains(u) for u in units):
            return True
        if role.role == Role.CITIZEN.value and ticket.citizen_user_id == user.id:
            return True
    return False
