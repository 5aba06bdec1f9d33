"""Reading accounts for the admins' user list."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from hotline.accounts.models import Role, User, UserRole
from hotline.orgs.models import OrgUnit


def user_list(
    *, text: str | None = None, unit: OrgUnit | None = None, role: str | None = None, active: bool | None = None
):
    """Users matching the filters, by username: ``text`` in the username or name, ``unit`` and its subtree,
    holding ``role``, active or not."""
    query = select(User).options(selectinload(User.org_unit)).order_by(User.username)
    if text:
        query = query.where(
            or_(User.username.icontains(text, autoescape=True), User.display_name.icontains(text, autoescape=True))
        )
    if unit is not None:
        query = query.where(User.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if role:
        query = query.where(exists().where(UserRole.user_id == User.id, UserRole.role == Role(role).value))
    if active is not None:
        query = query.where(User.active.is_(active))
    return query
