"""``flask apikeys create|list|revoke``: partner-channel keys, managed by admins on the server."""

import click
from flask.cli import AppGroup

from hotline.api.services import create_api_key, list_api_keys, revoke_api_key
from hotline.core.clock import to_local
from hotline.core.errors import DomainError
from hotline.extensions import db

apikeys_cli = AppGroup("apikeys", help="Manage API keys of partner channels.")


@apikeys_cli.command("create")
@click.argument("channel")
@click.option(
    "--kind",
    type=click.Choice(["partner", "cti"]),
    default="partner",
    show_default=True,
    help="partner: a channel that files appeals; cti: the call centre's telephony, which only reports calls.",
)
def create_command(channel, kind):
    """Create the key for CHANNEL and print it once (only its hash is stored)."""
    try:
        key, raw = create_api_key(channel, kind=kind)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"API key {key.id} ({key.kind}) for {key.channel}:")
    click.echo(raw)
    click.echo("Store it now: it cannot be shown again.", err=True)


@apikeys_cli.command("list")
def list_command():
    """List keys: id, channel, prefix, created, revoked, last used, requests."""
    for key in list_api_keys():
        revoked = f"revoked {to_local(key.revoked_at):%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"last used {to_local(key.last_used_at):%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        click.echo(
            f"{key.id}\t{key.channel}\t{key.kind}\t{key.prefix}…\tcreated {to_local(key.created_at):%Y-%m-%d %H:%M}"
            f"\t{revoked}\t{used}\t{key.request_count} requests"
        )


@apikeys_cli.command("revoke")
@click.argument("key_id", type=int)
def revoke_command(key_id):
    """Revoke key KEY_ID at once; requests with it get 401 from then on."""
    try:
        key = revoke_api_key(key_id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"revoked API key {key.id} ({key.channel})")
