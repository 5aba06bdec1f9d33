"""OrgUnit: one tree of every unit the hotline dispatches to.

Each unit stores its materialised path (``/1/4/17/``) so a subtree is one
indexed prefix query, whatever its depth.
"""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.models import enum_check, enum_column
from hotline.extensions import Model


class UnitKind(str, enum.Enum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    DEPARTMENT = "department"
    HOTLINE_CENTRE = "hotline_centre"


class OrgUnit(Model):
    __tablename__ = "org_unit"
    __table_args__ = (
        enum_check("kind", UnitKind),
        Index("ix_org_unit_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = enum_column(UnitKind)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    depth: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.code")

    def contains(self, other: OrgUnit | None) -> bool:
        """True when ``other`` is this unit or below it."""
        return other is not None and other.path.startswith(self.path)

    @property
    def ancestors(self) -> list[OrgUnit]:
        chain, unit = [], self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
