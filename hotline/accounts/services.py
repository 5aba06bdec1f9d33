"""Creating users and checking credentials."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.accounts.models import Role, User, UserRole
from hotline.core.clock import utcnow
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.orgs.models import OrgUnit

MIN_PASSWORD_LENGTH = 8


def create_user(username: str, password: str, display_name: str, *, org_unit: OrgUnit | None,
                roles: list[tuple[Role, OrgUnit]], phone: str | None = None) -> User:
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_l("A username is required."), field="username")
    if get_user(username) is not None:
        raise ValidationFailed(_l("The username %(name)s is taken.", name=username), field="username")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
                               field="password")
    if not roles:
        raise ValidationFailed(_l("Give the user at least one role."), field="roles")
    user = User(username=username, display_name=display_name or username, org_unit=org_unit, phone=phone)
    user.set_password(password)
    for role, scope in roles:
        user.roles.append(UserRole(role=Role(role).value, scope_unit=scope))
    db.session.add(user)
    db.session.flush()
    return user


def get_user(username: str) -> User | None:
    return db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (the same answer for every failure)."""
    user = get_user((username or "").strip())
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    user.last_login_at = utcnow()
    return user
