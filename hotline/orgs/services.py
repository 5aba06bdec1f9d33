"""Building, changing and reading the org tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.tickets import counts

if TYPE_CHECKING:
    from hotline.accounts.models import User


def create_unit(
    code: str, name: str, kind: UnitKind, parent: OrgUnit | None = None, name_en: str | None = None
) -> OrgUnit:
    unit = OrgUnit(
        code=code, name=name, name_en=name_en, kind=kind.value, parent=parent, depth=(parent.depth + 1) if parent else 0
    )
    db.session.add(unit)
    db.session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def get_unit_by_code(code: str) -> OrgUnit | None:
    return db.session.execute(select(OrgUnit).filter_by(code=code)).scalar_one_or_none()


def subtree_ids(unit: OrgUnit) -> Select[tuple[int]]:
    """A subquery of the ids of ``unit`` and every unit below it."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))


# --- administration of the tree (issue 20.1): each change audited with before -> after ------------------------

# Which kind of unit may sit under which (None: the root). 市 → 区 → 街道 → 社区; departments at the city,
# district and street levels; the hotline centre under the city.
PARENT_KINDS: dict[str, frozenset[str | None]] = {
    UnitKind.CITY.value: frozenset({None}),
    UnitKind.DISTRICT.value: frozenset({UnitKind.CITY.value}),
    UnitKind.STREET.value: frozenset({UnitKind.DISTRICT.value}),
    UnitKind.COMMUNITY.value: frozenset({UnitKind.STREET.value}),
    UnitKind.DEPARTMENT.value: frozenset({UnitKind.CITY.value, UnitKind.DISTRICT.value, UnitKind.STREET.value}),
    UnitKind.HOTLINE_CENTRE.value: frozenset({UnitKind.CITY.value}),
}


def _audit(actor: User | str, action: str, unit: OrgUnit, detail: dict[str, Any] | None = None) -> None:
    from hotline.core.audit import record_audit

    record_audit(actor, action, f"unit {unit.code}", detail)


def _check_place(kind: str, parent: OrgUnit | None) -> None:
    from hotline.tickets.labels import label

    allowed = PARENT_KINDS[kind]
    if (parent.kind if parent else None) not in allowed:
        if parent is None:
            raise ValidationFailed(
                _l("A %(kind)s needs a parent unit.", kind=label("unit_kind", kind)), field="parent_id"
            )
        raise ValidationFailed(
            _l(
                "A %(kind)s cannot sit under a %(parent)s.",
                kind=label("unit_kind", kind),
                parent=label("unit_kind", parent.kind),
            ),
            field="parent_id",
        )
    if parent is not None and not parent.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=parent.name), field="parent_id")


def add_unit(
    *, actor: User | str, code: str, name: str, kind: str, parent: OrgUnit | None, name_en: str | None = None
) -> OrgUnit:
    """A new unit in the tree, of a kind its parent may hold."""
    code, name, name_en = (code or "").strip(), (name or "").strip(), (name_en or "").strip() or None
    errors: dict[str, LazyString] = {}
    if not code or len(code) > 32:
        errors["code"] = _l("A code of at most 32 characters is required.")
    elif get_unit_by_code(code) is not None:
        errors["code"] = _l("The code %(code)s is taken.", code=code)
    if not name or len(name) > 120:
        errors["name"] = _l("A name of at most 120 characters is required.")
    if kind not in PARENT_KINDS:
        errors["kind"] = _l("Choose a kind of unit.")
    if errors:
        raise ValidationFailed(fields=errors)
    _check_place(kind, parent)
    unit = create_unit(code, name, UnitKind(kind), parent, name_en)
    db.session.flush()
    _audit(actor, "unit.create", unit, {"name": name, "kind": kind, "parent": parent.code if parent else None})
    return unit


def rename_unit(unit: OrgUnit, *, actor: User | str, name: str, name_en: str | None) -> OrgUnit:
    name, name_en = (name or "").strip(), (name_en or "").strip() or None
    if not name or len(name) > 120:
        raise ValidationFailed(_l("A name of at most 120 characters is required."), field="name")
    changes = {
        k: [old, new] for k, old, new in (("name", unit.name, name), ("name_en", unit.name_en, name_en)) if old != new
    }
    if changes:
        unit.name, unit.name_en = name, name_en
        db.session.flush()
        _audit(actor, "unit.update", unit, changes)
    return unit


def move_unit(unit: OrgUnit, new_parent: OrgUnit, *, actor: User | str) -> OrgUnit:
    """Put ``unit`` and its subtree under ``new_parent``: the materialised paths and depths of the whole
    subtree are recomputed. Refused under the unit itself or below it, and where its kind does not fit."""
    if new_parent.id == unit.parent_id:
        return unit
    if unit.contains(new_parent):
        raise ValidationFailed(_l("A unit cannot move under itself or a unit below it."), field="parent_id")
    _check_place(unit.kind, new_parent)
    before = unit.parent.code if unit.parent else None
    old_path, new_path = unit.path, f"{new_parent.path}{unit.id}/"
    shift = new_parent.depth + 1 - unit.depth
    for member in db.session.execute(select(OrgUnit).where(OrgUnit.path.startswith(old_path))).scalars():
        member.path = new_path + member.path[len(old_path) :]
        member.depth += shift
    old_above = {int(part) for part in old_path.strip("/").split("/")} - {unit.id}
    unit.parent = new_parent
    db.session.flush()
    # The units above it that gained or lost its subtree's closed tickets count theirs afresh.
    counts.recount_units(old_above ^ {int(part) for part in new_parent.path.strip("/").split("/")})
    _audit(actor, "unit.move", unit, {"parent": [before, new_parent.code]})
    return unit


def unit_holdings(unit: OrgUnit) -> dict[str, int]:
    """What keeps a unit from being deactivated: open tickets it leads or works on, its active users and its
    active units below."""
    from hotline.accounts.models import User
    from hotline.tickets.models import ACTIVE_ASSIGNMENT_STATUSES, Assignment, Ticket
    from hotline.tickets.workflow import OPEN_STATUSES

    working = select(Assignment.ticket_id).where(
        Assignment.unit_id == unit.id, Assignment.status.in_(ACTIVE_ASSIGNMENT_STATUSES)
    )
    tickets = db.session.execute(
        select(func.count(Ticket.id)).where(
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            or_(Ticket.lead_unit_id == unit.id, Ticket.id.in_(working)),
        )
    ).scalar_one()
    users = db.session.execute(select(func.count(User.id)).where(User.org_unit_id == unit.id, User.active)).scalar_one()
    children = db.session.execute(
        select(func.count(OrgUnit.id)).where(OrgUnit.parent_id == unit.id, OrgUnit.active)
    ).scalar_one()
    return {"tickets": tickets, "users": users, "children": children}


def deactivate_unit(unit: OrgUnit, *, actor: User | str) -> OrgUnit:
    """Hide the unit from dispatch and from new users; refused while it still holds open tickets, active users
    or active units below, naming how many."""
    if not unit.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=unit.name), field="unit")
    held = unit_holdings(unit)
    if any(held.values()):
        raise ValidationFailed(
            _l(
                "%(name)s still holds %(tickets)d open tickets, %(users)d active users and %(children)d active units "
                "below it. Move or finish them first.",
                name=unit.name,
                **held,
            ),
            field="unit",
        )
    unit.active = False
    db.session.flush()
    _audit(actor, "unit.deactivate", unit, {"active": [True, False]})
    return unit


def activate_unit(unit: OrgUnit, *, actor: User | str) -> OrgUnit:
    if unit.active:
        raise ValidationFailed(_l("%(name)s is already active.", name=unit.name), field="unit")
    if unit.parent is not None and not unit.parent.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=unit.parent.name), field="unit")
    unit.active = True
    db.session.flush()
    _audit(actor, "unit.activate", unit, {"active": [False, True]})
    return unit


def all_units() -> list[OrgUnit]:
    """The whole tree, each unit after its parent (the materialised path's order)."""
    return list(db.session.execute(select(OrgUnit).order_by(OrgUnit.path)).scalars())
