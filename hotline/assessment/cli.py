"""``flask assessment``: create and close periods from the command line (a cron job after month end)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hotline.assessment import services
from hotline.core.errors import DomainError
from hotline.extensions import db


@click.group("assessment")
def assessment_cli() -> None:
    """Unit assessment (考核) periods."""


@assessment_cli.command("close")
@click.option("--period", "label", required=True, help="2026-03, 2026-Q1 or 2026")
@click.option("--create", is_flag=True, help="Create the period first if it does not exist.")
@with_appcontext
def close(label: str, create: bool) -> None:
    """Close a period: compute and freeze every unit's scores (audited as the system)."""
    try:
        services.parse_label(label)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint="--period") from exc
    try:
        try:
            period = services.find_period(label)
        except DomainError:
            if not create:
                raise
            period = services.create_period(None, label)
        rows = services.close_period(None, period)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    scored = sum(1 for r in rows if r.score is not None)
    click.echo(f"{period.label}: closed, {len(rows)} units, {scored} scored")
