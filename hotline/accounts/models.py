"""User and the roles a user holds, each scoped to an org unit and its subtree."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.orgs.models import OrgUnit

# An operator's telephone extension, as the user form and the telephony's events give it (hotline.cti).
EXTENSION = re.compile(r"^[0-9A-Za-z*#]{1,16}$")


class Role(str, enum.Enum):
    CITIZEN = "citizen"
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    EVALUATOR = "evaluator"  # 人大代表 / 政协委员 invited to rate units (hotline.evaluation)


# Roles that work at the hotline centre and may see full contact data.
HOTLINE_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


class User(UserMixin, Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # The operator's telephone extension: a call answered there pops up on their console (hotline.cti).
    extension: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped to end every session, remember cookie and API token at once (accounts.services.revoke_sessions).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set by an admin's password reset: the user must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    org_unit: Mapped[OrgUnit | None] = relationship()
    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    if TYPE_CHECKING:
        # Not a column: the bell's count, set on the signed-in user by accounts.services.load_signed_in.
        unread_on_load: int

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """The identity kept in the session and the remember cookie: id and session version, so bumping the
        version ends both (hotline.accounts.services.user_for_session)."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        from flask import current_app

        # Tests choose a cheap method; production keeps Werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role) -> bool:
        wanted = {Role(r).value for r in roles}
        return any(r.role in wanted for r in self.roles)

    def scopes(self, *roles: Role) -> list[OrgUnit]:
        """The units whose subtrees this user may act on with any of ``roles``."""
        wanted = {Role(r).value for r in roles}
        return [r.scope_unit for r in self.roles if r.role in wanted]

    def in_scope(self, unit: OrgUnit | None, *roles: Role) -> bool:
        return any(scope.contains(unit) for scope in self.scopes(*roles))

    @property
    def is_hotline_staff(self) -> bool:
        return self.has_role(*HOTLINE_ROLES)

    @property
    def is_citizen_only(self) -> bool:
        """A citizen account with no staff role: it gets the citizen's pages of its appeals, never the staff's."""
        return bool(self.roles) and all(r.role == Role.CITIZEN.value for r in self.roles)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Model):
    __tablename__ = "user_role"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_unit_id", name="uq_user_role_user_role_scope"),
        enum_check("role", Role),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = enum_column(Role)
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    scope_unit: Mapped[OrgUnit] = relationship(lazy="joined")
