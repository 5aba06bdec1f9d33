"""Creating users and checking credentials."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from hotline import permissions
from hotline.accounts.models import EXTENSION, Role, User, UserRole
from hotline.accounts.passwords import MIN_LENGTH, check_password_strength
from hotline.core.clock import utcnow
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.notify.services import unread_groups
from hotline.orgs.models import OrgUnit


def check_password_rules(password: str | None, username: str | None = None, display_name: str | None = None) -> None:
    """Not only digits (birthdays, phone numbers), then the strength rules (hotline.accounts.passwords)."""
    if password and password.isdigit() and len(password) >= MIN_LENGTH:
        raise ValidationFailed(_l("The password may not be only digits."), field="password")
    check_password_strength(password, username, display_name)


def set_password(user: User, password: str) -> User:
    """Change a user's password under the same rules; every session, remember cookie and API token issued
    before stops working (the caller signs the current session in again if it should stay)."""
    check_password_rules(password, user.username, user.display_name)
    user.set_password(password)
    user.must_change_password = False
    revoke_sessions(user)
    return user


def change_own_password(user: User, current_password: str, new_password: str) -> User:
    """The signed-in user's own change: the current password proves it is them (a session left open on a
    shared PC is not enough). Every other session of theirs ends."""
    if not user.check_password(current_password or ""):
        raise ValidationFailed(_l("The current password is wrong."), field="current_password")
    if new_password == current_password:
        raise ValidationFailed(_l("Choose a password different from the current one."), field="new_password")
    try:
        set_password(user, new_password)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="new_password") from exc
    _audit(user, "user.change_password", user)
    return user


def sign_out(user: User) -> User:
    """Signing out ends every session of the user: sessions are signed cookies, so a copy of this one (or of
    its remember cookie) can only be stopped by the session version (issue 28.1)."""
    return revoke_sessions(user)


def sign_out_everywhere(user: User) -> User:
    revoke_sessions(user)
    _audit(user, "user.sign_out_everywhere", user)
    return user


def choose_language(user: User, locale: str) -> User:
    """The user's preferred language: the pages speak it wherever they sign in, until this browser chooses."""
    user.locale = locale
    db.session.flush()
    return user


# --- revocable sessions (docs/security.md) ------------------------------------------------------------------


def revoke_sessions(user: User) -> User:
    """End every session, remember cookie and API token of ``user`` at once: each carries the session version
    it was issued under (``User.get_id``, hotline.api.services.issue_token), and only the current one counts."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()
    return user


def parse_session_identity(identity: str | None) -> tuple[int, int] | None:
    """``"<id>:<version>"`` (``User.get_id``) as numbers, or None for anything else (an identity from before
    session versions included: that session is over)."""
    user_id, sep, version = (identity or "").partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit() or len(identity or "") > 40:
        return None
    return int(user_id), int(version)


def session_is_current(user: User | None, version: object) -> bool:
    """Whether ``version`` (as a session or a token carried it) is the active user's session version."""
    return user is not None and user.active and user.session_version == version


# --- administration of accounts: each change audited with before -> after, and sessions revoked -------------


def _audit(actor: User | str | None, action: str, user: User, detail: dict[str, Any] | None = None) -> None:
    from hotline.core.audit import record_audit

    record_audit(actor, action, f"user {user.username}", detail)


def role_pairs(user: User) -> list[str]:
    """The user's roles as ``role@unit-code`` strings, sorted: how the audit log shows them."""
    return sorted(f"{r.role}@{r.scope_unit.code}" for r in user.roles)


def deactivate_user(user: User, *, actor: User | str | None) -> User:
    """The user can no longer sign in; their sessions and API tokens stop at once."""
    if not user.active:
        raise ValidationFailed(_l("%(name)s is already deactivated.", name=user.username), field="user")
    if actor is not None and getattr(actor, "id", None) == user.id:
        raise ValidationFailed(_l("You cannot deactivate your own account."), field="user")
    user.active = False
    revoke_sessions(user)
    _audit(actor, "user.deactivate", user, {"active": [True, False]})
    return user


def activate_user(user: User, *, actor: User | str | None) -> User:
    if user.active:
        raise ValidationFailed(_l("%(name)s is already active.", name=user.username), field="user")
    user.active = True
    _audit(actor, "user.activate", user, {"active": [False, True]})
    db.session.flush()
    return user


def set_user_roles(user: User, roles: list[tuple[Role, OrgUnit]], *, actor: User | str | None) -> User:
    """Replace the user's roles (each scoped to a unit's subtree); sessions end so new rights apply at once."""
    if not roles:
        raise ValidationFailed(_l("Give the user at least one role."), field="roles")
    wanted = {(Role(role).value, scope.id): scope for role, scope in roles}
    if (
        getattr(actor, "id", None) == user.id
        and permissions.can_administer(user)
        and Role.ADMIN.value not in {role for role, _scope in wanted}
    ):
        raise ValidationFailed(_l("You cannot remove your own administrator role."), field="roles")
    before = role_pairs(user)
    current = {(r.role, r.scope_unit_id): r for r in user.roles}
    for key, link in current.items():
        if key not in wanted:
            user.roles.remove(link)
    for (role, _scope_id), scope in wanted.items():
        if (role, scope.id) not in current:
            user.roles.append(UserRole(role=role, scope_unit=scope))
    db.session.flush()
    after = role_pairs(user)
    if after != before:
        revoke_sessions(user)
        _audit(actor, "user.set_roles", user, {"roles": [before, after]})
    return user


def temporary_password() -> str:
    """A random password an admin hands over once; the user must replace it at the next sign-in."""
    return secrets.token_urlsafe(12)


def create_account(
    *,
    actor: User | str | None,
    username: str,
    display_name: str,
    unit: OrgUnit,
    roles: list[tuple[Role, OrgUnit]],
    password: str | None = None,
    phone: str | None = None,
) -> tuple[User, str]:
    """An admin creates a user with a temporary password (theirs or generated), to be changed at the first
    sign-in. Returns the user and the password, to be shown once."""
    if not unit.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=unit.name), field="org_unit")
    password = password or temporary_password()
    user = create_user(username, password, display_name, org_unit=unit, roles=roles, phone=phone or None)
    user.must_change_password = True
    _audit(
        actor, "user.create", user, {"unit": unit.code, "roles": role_pairs(user), "display_name": user.display_name}
    )
    db.session.flush()
    return user, password


def create_account_without_password(
    *,
    actor: User | str | None,
    username: str,
    display_name: str,
    unit: OrgUnit,
    roles: list[tuple[Role, OrgUnit]],
    phone: str | None = None,
) -> User:
    """An imported user (hotline.admin.bulk): no usable password until an admin resets it (the user then
    chooses their own at the first sign-in) or an operator runs ``flask users set-password``."""
    if not unit.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=unit.name), field="org_unit")
    user = create_user(username, None, display_name, org_unit=unit, roles=roles, phone=phone or None)
    user.must_change_password = True
    _audit(
        actor,
        "user.create",
        user,
        {"unit": unit.code, "roles": role_pairs(user), "display_name": user.display_name, "password": None},
    )
    db.session.flush()
    return user


def reset_password(user: User, *, actor: User | str | None, password: str | None = None) -> str:
    """An admin sets a temporary password (theirs or generated): every session of the user ends and the user
    chooses a new one at the next sign-in. Returns the password, to be shown once."""
    password = password or temporary_password()
    set_password(user, password)
    user.must_change_password = True
    _audit(actor, "user.reset_password", user, {"must_change_password": True})
    db.session.flush()
    return password


# --- the per-account sign-in lockout (hotline.accounts.views.login, docs/security.md) ----------------------

LOGIN_ACCOUNT_SCOPE = "login-account"
LOGIN_LIMIT_ACCOUNT = "5 per 15 minutes"  # failed sign-ins per account; config LOGIN_LIMIT_ACCOUNT overrides


def login_account_key(username: str | None) -> str:
    """The rate-limit key failed sign-ins of one account count under, whatever the address."""
    return "login-account:" + (username or "").strip().lower()[:64]


def unlock_sign_in(user: User, *, actor: User | str | None) -> User:
    """Forget the account's failed sign-ins, so a locked-out user can try again at once. The per-address limit
    is not tied to an account and runs out on its own."""
    from flask import current_app
    from limits import parse

    from hotline.extensions import limiter

    limit = parse(current_app.config.get("LOGIN_LIMIT_ACCOUNT", LOGIN_LIMIT_ACCOUNT))
    # Flask-Limiter's identifiers for a shared limit (decorators.sign_in_lockout): [prefix,] key, scope.
    identifiers = [login_account_key(user.username), LOGIN_ACCOUNT_SCOPE]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    limiter.limiter.clear(limit, *([prefix] if prefix else []), *identifiers)
    _audit(actor, "user.unlock", user)
    return user


def update_user(
    user: User, *, actor: User | str | None, display_name: str, unit: OrgUnit, roles: list[tuple[Role, OrgUnit]]
) -> User:
    """An admin's edit form: name, unit and roles, each change audited (unit and role changes end sessions)."""
    display_name = (display_name or "").strip() or user.display_name
    if display_name != user.display_name:
        _audit(actor, "user.update", user, {"display_name": [user.display_name, display_name]})
        user.display_name = display_name
    set_user_unit(user, unit, actor=actor)
    set_user_roles(user, roles, actor=actor)
    return user


def update_user_details(user: User, *, actor: User | str | None, display_name: str, phone: str | None) -> User:
    """Name and phone (bulk import); the audit row says the phone changed, not what it is."""
    display_name, phone = (display_name or "").strip(), (phone or "").strip() or None
    if not display_name or len(display_name) > 64:
        raise ValidationFailed(_l("A name of at most 64 characters is required."), field="display_name")
    if phone is not None and len(phone) > 20:
        raise ValidationFailed(_l("A phone number has at most 20 characters."), field="phone")
    changes: dict[str, Any] = {}
    if display_name != user.display_name:
        changes["display_name"] = [user.display_name, display_name]
    if phone != user.phone:
        changes["phone"] = "changed"
    if changes:
        user.display_name, user.phone = display_name, phone
        db.session.flush()
        _audit(actor, "user.update", user, changes)
    return user


def set_user_unit(user: User, unit: OrgUnit, *, actor: User | str | None) -> User:
    """Move the user to another unit; sessions end so the new unit applies at once."""
    if not unit.active:
        raise ValidationFailed(_l("The unit %(name)s is deactivated.", name=unit.name), field="org_unit")
    before = user.org_unit.code if user.org_unit else None
    if before != unit.code:
        user.org_unit = unit
        revoke_sessions(user)
        _audit(actor, "user.set_unit", user, {"unit": [before, unit.code]})
    return user


def set_user_extension(user: User, extension: str | None, *, actor: User | str | None) -> User:
    """The operator's telephone extension (empty: none): calls answered there pop up on their console."""
    extension = (extension or "").strip() or None
    if extension is not None and not EXTENSION.match(extension):
        raise ValidationFailed(_l("An extension is 1 to 16 digits or letters."), field="extension")
    holder = db.session.execute(select(User).where(User.extension == extension, User.id != user.id)).scalar()
    if extension is not None and holder is not None:
        raise ValidationFailed(
            _l("Extension %(ext)s belongs to %(user)s.", ext=extension, user=holder.username), field="extension"
        )
    if user.extension != extension:
        _audit(actor, "user.set_extension", user, {"extension": [user.extension, extension]})
        user.extension = extension
    return user


# A stored hash no password matches (Werkzeug's check_password_hash answers False for it): an imported user
# signs in only after an admin's reset or ``flask users set-password``.
UNUSABLE_PASSWORD = "!"


def create_user(
    username: str,
    password: str | None,
    display_name: str,
    *,
    org_unit: OrgUnit | None,
    roles: list[tuple[Role, OrgUnit]],
    phone: str | None = None,
) -> User:
    """A user with ``password``, or with no usable password when it is None (bulk import)."""
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_l("A username is required."), field="username")
    if get_user(username) is not None:
        raise ValidationFailed(_l("The username %(name)s is taken.", name=username), field="username")
    if password is not None:
        check_password_rules(password, username, display_name)
    if not roles:
        raise ValidationFailed(_l("Give the user at least one role."), field="roles")
    user = User(username=username, display_name=display_name or username, org_unit=org_unit, phone=phone)
    if password is None:
        user.password_hash = UNUSABLE_PASSWORD
    else:
        user.set_password(password)
    for role, scope in roles:
        user.roles.append(UserRole(role=Role(role).value, scope_unit=scope))
    db.session.add(user)
    db.session.flush()
    return user


@cache
def user_with_roles_statement() -> Select[tuple[User]]:
    """The user by id with their roles, each role's scope unit and their own unit, in one statement (every
    permission check reads them). Built once: building it costs more than running it."""
    return (
        select(User)
        .where(User.id == bindparam("user_id"))
        .options(joinedload(User.roles).joinedload(UserRole.scope_unit), joinedload(User.org_unit))
    )


@cache
def _signed_in_statement() -> Select[tuple[User, int]]:
    unread = unread_groups(User.id).scalar_subquery()
    return user_with_roles_statement().add_columns(unread.label("unread"))


def load_signed_in(user_id: int) -> User | None:
    """The signed-in user with roles, scopes and unit, and the bell's unread count (``unread_on_load``), in one
    statement: every staff page needs both. The statement is built once (building it costs more than running it)."""
    row = db.session.execute(_signed_in_statement(), {"user_id": user_id}).unique().first()
    if row is None:
        return None
    user, unread = row._tuple()
    user.unread_on_load = unread
    return user


def user_for_session(identity: str) -> User | None:
    """Flask-Login's user loader (session and remember cookie): the user, with roles, units and the bell's
    count, while the identity's session version is still current."""
    parsed = parse_session_identity(identity)
    if parsed is None:
        return None
    user = load_signed_in(parsed[0])
    return user if session_is_current(user, parsed[1]) else None


def load_user(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    return db.session.execute(user_with_roles_statement(), {"user_id": user_id}).unique().scalar_one_or_none()


def get_user(username: str) -> User | None:
    return db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (the same answer for every failure)."""
    username = (username or "").strip()
    if "\x00" in username or "\x00" in (password or ""):  # PostgreSQL text cannot hold NUL (found by the API fuzzer)
        return None
    user = get_user(username)
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    user.last_login_at = utcnow()
    return user
