"""``flask sms opt-in|opt-out PHONE``: an opt-out asked for, or lifted, on the phone with an operator."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.accounts.cli import CLI_ACTOR
from hotline.core.audit import record_audit
from hotline.extensions import db
from hotline.sms import services
from hotline.tickets.validation import PHONE_PATTERN, normalise_phone

sms_cli = AppGroup("sms", help="Citizens' SMS: opt-outs of surveys.")


def _phone(raw: str) -> str:
    phone = normalise_phone(raw)
    if not PHONE_PATTERN.match(phone):
        raise click.BadParameter(f"{raw!r} is not a Chinese phone number", param_hint="PHONE")
    return phone


@sms_cli.command("opt-out")
@click.argument("phone")
def opt_out_command(phone):
    """Send PHONE no more surveys by SMS (as its reply TD would)."""
    phone = _phone(phone)
    if services.opt_out(phone, via="operator"):
        record_audit(CLI_ACTOR, "sms.opt_out", phone)
        db.session.commit()
        click.echo(f"{phone} opted out of surveys by SMS")
    else:
        click.echo(f"{phone} had already opted out")


@sms_cli.command("opt-in")
@click.argument("phone")
def opt_in_command(phone):
    """Lift PHONE's opt-out: its next released answer asks for a rating again."""
    phone = _phone(phone)
    if services.opt_in(phone):
        record_audit(CLI_ACTOR, "sms.opt_in", phone)
        db.session.commit()
        click.echo(f"{phone} gets surveys by SMS again")
    else:
        click.echo(f"{phone} had not opted out")
