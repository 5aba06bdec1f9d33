"""``flask kpi``: roll up days by hand (the worker does it on its own) and rebuild after a correction."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from hotline.core.errors import DomainError
from hotline.extensions import db

kpi_cli = AppGroup("kpi", help="KPI rollups for the dashboard and the public page.")


@kpi_cli.command("rollup")
def rollup_command():
    """Finalise the ended days not final yet, then today's figures and the hotspot alerts."""
    from hotline.dashboard import services

    for result in services.rollup_closed_days(commit=db.session.commit):
        click.echo(
            f"{result['day']}: {result['registered']} registered, {result['units']} units, {result['seconds']} s"
        )
    result = services.rollup_today()
    db.session.commit()
    click.echo(
        f"today {result['day']}: {result['registered']} registered; hotspot alerts: {result['hotspots']}; "
        f"snapshots: {result['snapshots']}"
    )


@kpi_cli.command("rebuild")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
def rebuild_command(start, end):
    """Recount every day of a period (after a calendar or data correction)."""
    from hotline.dashboard import services

    try:
        n = services.rebuild(start.date(), end.date(), commit=db.session.commit)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    services.refresh_snapshots()
    db.session.commit()
    click.echo(f"rebuilt {n} days")


_ = date
