"""``flask users create``."""
import click
from flask.cli import AppGroup

from hotline.accounts.models import Role
from hotline.accounts.services import create_user, get_user, set_password
from hotline.core.audit import record_audit
from hotline.core.errors import DomainError
from hotline.extensions import db
from hotline.orgs.services import get_unit_by_code

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None, help="Display name (defaults to the username).")
@click.option("--unit", "unit_code", required=True, help="Code of the user's org unit.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="A role; repeat for several.")
@click.option("--scope", "scope_code", default=None, help="Unit code the roles apply to (default: --unit).")
def create_user_command(username, password, display_name, unit_code, roles, scope_code):
    """Create a user with roles scoped to an org unit's subtree."""
    unit = get_unit_by_code(unit_code)
    if unit is None:
        raise click.BadParameter(f"no org unit with code {unit_code!r}", param_hint="--unit")
    scope = get_unit_by_code(scope_code) if scope_code else unit
    if scope is None:
        raise click.BadParameter(f"no org unit with code {scope_code!r}", param_hint="--scope")
    try:
        user = create_user(username, password, display_name, org_unit=unit,
                           roles=[(Role(r), scope) for r in roles])
        record_audit("cli", "user.create", user.username, {"unit": unit.code, "scope": scope.code,
                                                            "roles": list(roles)})
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message))
    click.echo(f"created user {user.username} ({', '.join(roles)} @ {scope.name})")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(username, password):
    """Set a user's password (at least 8 characters, not only digits, not a common one)."""
    user = get_user(username)
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="USERNAME")
    try:
        set_password(user, password)
        record_audit("cli", "user.set_password", user.username)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message))
    click.echo(f"password of {user.username} changed")
