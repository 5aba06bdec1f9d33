"""``flask users``: create, list, deactivate and activate accounts, change their roles, unit and password.

Every change goes through the same services as the admin pages (sessions revoked, audit recorded with the
actor ``cli``). Bad input (an unknown user, unit or role) prints a message and exits non-zero, changing nothing.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.orm import selectinload

from hotline.accounts import services
from hotline.accounts.models import Role, User, UserRole
from hotline.accounts.queries import user_list
from hotline.accounts.services import create_user, get_user, set_password
from hotline.core.audit import record_audit
from hotline.core.errors import DomainError
from hotline.extensions import db
from hotline.orgs.services import get_unit_by_code

users_cli = AppGroup("users", help="Manage user accounts.")
CLI_ACTOR = "cli"  # the audit history's actor for changes made from the command line
ROLE_NAMES = [r.value for r in Role]


def _password_from(password: str | None, from_stdin: bool) -> str:
    """``--password``, one line of standard input (``--password-stdin``), or a hidden prompt at a terminal."""
    if password is not None and from_stdin:
        raise click.UsageError("give either --password or --password-stdin, not both")
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("--password-stdin read an empty line: write the password to standard input")
        return line
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise click.UsageError(
            "no terminal to ask for the password: pipe it in with --password-stdin "
            "(e.g. printf '%s\\n' \"$PASSWORD\" | flask users create … --password-stdin) "
            "or give --password"
        )
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def password_options(command):
    command = click.option(
        "--password-stdin",
        "password_stdin",
        is_flag=True,
        help="Read the password from the first line of standard input.",
    )(command)
    return click.option(
        "--password",
        default=None,
        help="The password (prompted for at a terminal when neither option is given; "
        "avoid: it stays in the shell history).",
    )(command)


def _user(username: str) -> User:
    user = get_user(username)
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="USERNAME")
    return user


def _unit(code: str, hint: str):
    unit = get_unit_by_code(code)
    if unit is None:
        raise click.BadParameter(f"no org unit with code {code!r}", param_hint=hint)
    return unit


def _apply(change, message) -> None:
    """Run one service change and commit, or roll back and exit 1 with the refusal's message."""
    try:
        change()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    click.echo(message() if callable(message) else message)


@users_cli.command("create")
@click.argument("username")
@password_options
@click.option("--name", "display_name", default=None, help="Display name (defaults to the username).")
@click.option("--unit", "unit_code", required=True, help="Code of the user's org unit.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLE_NAMES), help="A role; repeat for several."
)
@click.option("--scope", "scope_code", default=None, help="Unit code the roles apply to (default: --unit).")
def create_user_command(username, password, password_stdin, display_name, unit_code, roles, scope_code):
    """Create a user with roles scoped to an org unit's subtree."""
    unit = _unit(unit_code, "--unit")
    scope = _unit(scope_code, "--scope") if scope_code else unit
    password = _password_from(password, password_stdin)
    created = {}

    def change():
        created["user"] = create_user(
            username, password, display_name, org_unit=unit, roles=[(Role(r), scope) for r in roles]
        )
        record_audit(
            CLI_ACTOR,
            "user.create",
            created["user"].username,
            {"unit": unit.code, "scope": scope.code, "roles": list(roles)},
        )

    _apply(change, f"created user {username.strip()} ({', '.join(roles)} @ {scope.name})")


@users_cli.command("set-password")
@click.argument("username")
@password_options
def set_password_command(username, password, password_stdin):
    """Set a user's password (at least 8 characters, not only digits, not a common one)."""
    user = _user(username)
    password = _password_from(password, password_stdin)

    def change():
        set_password(user, password)
        record_audit(CLI_ACTOR, "user.set_password", user.username)

    _apply(change, f"password of {user.username} changed")


@users_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="Only users of this unit (by code) and units below it.")
@click.option("--role", type=click.Choice(ROLE_NAMES), default=None, help="Only users holding this role.")
@click.option("--active/--inactive", "active", default=None, help="Only active, or only deactivated, users.")
@click.option("--search", "text", default=None, help="Text in the username or name.")
def list_users_command(unit_code, role, active, text):
    """List users: username, name, unit, roles (role@scope), active."""
    unit = _unit(unit_code, "--unit") if unit_code else None
    query = user_list(text=text, unit=unit, role=role, active=active).options(
        selectinload(User.roles).joinedload(UserRole.scope_unit)
    )
    rows = [
        (
            u.username,
            u.display_name,
            u.org_unit.code if u.org_unit else "-",
            ",".join(services.role_pairs(u)) or "-",
            "yes" if u.active else "no",
        )
        for u in db.session.execute(query).scalars()
    ]
    header = ("USERNAME", "NAME", "UNIT", "ROLES", "ACTIVE")
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    click.echo(f"{len(rows)} user(s)", err=True)


def _width(text: str) -> int:
    """Display columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username):
    """Deactivate a user: no more sign-in; their sessions and API tokens stop at once."""
    user = _user(username)
    _apply(lambda: services.deactivate_user(user, actor=CLI_ACTOR), f"{user.username} deactivated")


@users_cli.command("activate")
@click.argument("username")
def activate_command(username):
    """Reactivate a deactivated user."""
    user = _user(username)
    _apply(lambda: services.activate_user(user, actor=CLI_ACTOR), f"{user.username} activated")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@click.option(
    "--scope", "scope_code", default=None, help="Unit code the roles apply to (default: the user's own unit)."
)
def set_role_command(username, roles, scope_code):
    """Replace a user's roles: ROLES are role names, separated by spaces or commas
    (operator, dispatcher, handler, supervisor, admin, citizen). Their sessions end."""
    user = _user(username)
    names = [name.strip().lower() for part in roles for name in part.split(",") if name.strip()]
    unknown = [name for name in names if name not in ROLE_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown role {', '.join(map(repr, unknown)) or '(none given)'}; choose from {', '.join(ROLE_NAMES)}",
            param_hint="ROLES",
        )
    if scope_code:
        scope = _unit(scope_code, "--scope")
    elif user.org_unit is not None:
        scope = user.org_unit
    else:
        raise click.UsageError(f"{user.username} has no unit: give --scope")
    _apply(
        lambda: services.set_user_roles(user, [(Role(n), scope) for n in names], actor=CLI_ACTOR),
        lambda: f"roles of {user.username}: {', '.join(services.role_pairs(user))}",
    )


@users_cli.command("set-extension")
@click.argument("username")
@click.argument("extension")
def set_extension_command(username, extension):
    """Give an operator their telephone extension ("" removes it): calls answered there pop up on their console."""
    user = _user(username)
    _apply(
        lambda: services.set_user_extension(user, extension, actor=CLI_ACTOR),
        lambda: (
            f"{user.username} at extension {user.extension}" if user.extension else f"{user.username}: no extension"
        ),
    )


@users_cli.command("set-unit")
@click.argument("username")
@click.argument("unit_code")
def set_unit_command(username, unit_code):
    """Move a user to another org unit (their roles' scopes stay as they are). Their sessions end."""
    user = _user(username)
    unit = _unit(unit_code, "UNIT_CODE")
    _apply(lambda: services.set_user_unit(user, unit, actor=CLI_ACTOR), f"{user.username} now in {unit.code}")
