"""Building and reading the org tree."""
from __future__ import annotations

from sqlalchemy import select

from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind


def create_unit(code: str, name: str, kind: UnitKind, parent: OrgUnit | None = None,
                name_en: str | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, name_en=name_en, kind=kind.value, parent=parent,
                   depth=(parent.depth + 1) if parent else 0)
    db.session.add(unit)
    db.session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def get_unit_by_code(code: str) -> OrgUnit | None:
    return db.session.execute(select(OrgUnit).filter_by(code=code)).scalar_one_or_none()


def subtree_ids(unit: OrgUnit):
    """A subquery of the ids of ``unit`` and every unit below it."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
