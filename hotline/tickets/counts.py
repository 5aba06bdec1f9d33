"""Counts of a scope's tickets per status that stay flat as the years of closed work pile up.

Final statuses are absorbing (no transition leaves one), so a ticket's contribution to the counts of closed
work is fixed the moment it turns final: one to each scope that can read it, by ``permissions.ticket_scope``'s
rules. Those are stored per (scope unit, kind, status) in ``scope_final_count`` and kept by the final
transition itself (``ticket_became_final``), the archive (``tickets_leaving``, ``tickets_restored``) and a move in the
unit tree (``recount_units``). Open work is counted live, from the rows of open work alone
(``ix_assignment_open_work``, ``ix_ticket_open_scope``), which do not grow with history either.

Kinds: ``handler`` — tickets actively assigned to a unit of the subtree (a handler's scope); ``staff`` — those
and the tickets taken in by a unit of the subtree (hotline staff scoped to a unit; at the root: every ticket).
A ticket counts once per scope unit, however many of its assignments lie below it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    delete,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from hotline.accounts.models import HOTLINE_ROLES, Role, User
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, ScopeFinalCount, Ticket
from hotline.tickets.workflow import FINAL_STATUSES

HANDLER, STAFF = "handler", "staff"
_FINAL = sorted(s.value for s in FINAL_STATUSES)
_HOTLINE = {r.value for r in HOTLINE_ROLES}

ScopeKey = tuple[int, str]  # (unit id, kind)


def _contributions(tickets: ColumnElement[bool] | None = None) -> CompoundSelect[Any]:
    """(unit_id, kind, status, n) for the final tickets matching ``tickets`` (all of them if None)."""
    where = [Ticket.status.in_(_FINAL)] + ([tickets] if tickets is not None else [])
    at, above = aliased(OrgUnit), aliased(OrgUnit)
    assigned = (
        select(Ticket.id.label("ticket_id"), Ticket.status.label("status"), above.id.label("unit_id"))
        .join(Assignment, and_(Assignment.ticket_id == Ticket.id, Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)))
        .join(at, at.id == Assignment.unit_id)
        .join(above, at.path.startswith(above.path))
        .where(*where)
    )
    taken_in = (
        select(Ticket.id.label("ticket_id"), Ticket.status.label("status"), above.id.label("unit_id"))
        .join(at, at.id == Ticket.intake_unit_id)
        .join(above, at.path.startswith(above.path))
        .where(*where)
    )

    def grouped(rows: Any, kind: str) -> Select[Any]:
        sub = rows.subquery()
        return select(
            sub.c.unit_id, literal(kind).label("kind"), sub.c.status, func.count(sub.c.ticket_id.distinct())
        ).group_by(sub.c.unit_id, sub.c.status)

    # count(DISTINCT): a ticket counts once per unit, however many of its assignments (and its intake) lie below.
    return union_all(grouped(assigned, HANDLER), grouped(union_all(assigned, taken_in), STAFF))


def _apply(rows: Iterable[Sequence[Any]], sign: int) -> None:
    """Add ``sign`` × n to each row's counter, in key order (concurrent closings lock the rows in one order)."""
    values = [
        {"unit_id": unit_id, "kind": kind, "status": status, "n": sign * n}
        for unit_id, kind, status, n in sorted(rows, key=lambda r: (r[0], r[1], r[2]))
    ]
    if not values:
        return
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ScopeFinalCount).values(values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["unit_id", "kind", "status"], set_={"n": ScopeFinalCount.n + statement.excluded.n}
        )
    )


def ticket_became_final(ticket: Ticket) -> None:
    """The final transition's bookkeeping (``services.apply_transition``, after its effects are flushed): the
    ticket leaves the open-work rows and is counted in every scope that reads it."""
    db.session.execute(update(Assignment).where(Assignment.ticket_id == ticket.id).values(ticket_open=False))
    _apply(db.session.execute(_contributions(Ticket.id == ticket.id)).tuples(), +1)


def tickets_leaving(ticket_ids: Sequence[int]) -> None:
    """Final tickets about to leave the working tables (the archive): uncounted while their rows are there."""
    if ticket_ids:
        _apply(db.session.execute(_contributions(Ticket.id.in_(ticket_ids))).tuples(), -1)


def tickets_restored(ticket_ids: Sequence[int]) -> None:
    """Final tickets put back into the working tables (the archive's restore), their rows flushed: counted
    again, and their assignments marked closed (a payload archived before the flag existed lacks it)."""
    if ticket_ids:
        db.session.execute(
            update(Assignment).where(Assignment.ticket_id.in_(ticket_ids)).values(ticket_open=False),
            execution_options={"synchronize_session": False},
        )
        _apply(db.session.execute(_contributions(Ticket.id.in_(ticket_ids))).tuples(), +1)


def recount_units(unit_ids: Iterable[int] | None = None) -> None:
    """Count these units' scopes afresh from the tickets (every scope if None): after a unit moved in the tree
    (its old and new ancestors gain or lose its subtree's tickets), or to repair (``flask tickets recount``)."""
    contributions = _contributions().subquery()
    query = select(contributions)
    ids = None if unit_ids is None else sorted(set(unit_ids))
    if ids is not None:
        query = query.where(contributions.c.unit_id.in_(ids))
        db.session.execute(delete(ScopeFinalCount).where(ScopeFinalCount.unit_id.in_(ids)))
    else:
        db.session.execute(delete(ScopeFinalCount))
    _apply(db.session.execute(query).tuples(), +1)
    db.session.flush()


def scope_key(user: User) -> ScopeKey | None:
    """The one stored scope that holds exactly ``user``'s tickets, or None when the scope is none of them (a
    citizen's own appeals, or roles at two unrelated units): their counts are then counted live."""
    keys: list[tuple[OrgUnit, str]] = []
    for role in user.roles:
        if role.role in _HOTLINE:
            keys.append((role.scope_unit, STAFF))
        elif role.role == Role.HANDLER.value:
            keys.append((role.scope_unit, HANDLER))
        elif role.role == Role.CITIZEN.value:
            return None
    for unit, kind in keys:  # one key whose tickets include every other key's
        if all(unit.contains(other) and (kind == STAFF or other_kind == HANDLER) for other, other_kind in keys):
            return unit.id, kind
    return None


def final_counts(key: ScopeKey) -> dict[str, int]:
    unit_id, kind = key
    rows = db.session.execute(
        select(ScopeFinalCount.status, ScopeFinalCount.n).where(
            ScopeFinalCount.unit_id == unit_id, ScopeFinalCount.kind == kind, ScopeFinalCount.n != 0
        )
    ).tuples()
    return dict(rows.all())
