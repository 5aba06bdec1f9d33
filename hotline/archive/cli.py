"""``flask archive``: move tickets closed more than N years ago out of the working tables, and back."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from hotline.accounts.cli import CLI_ACTOR
from hotline.archive import queries, services
from hotline.core.clock import to_utc_naive, utcnow
from hotline.core.errors import DomainError
from hotline.extensions import db


def _cutoff(years: int) -> datetime:
    now = utcnow()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


@click.group(
    "archive",
    cls=AppGroup,
    invoke_without_command=True,
    help="Archive the tickets closed more than --years ago (default ARCHIVE_AFTER_YEARS); "
    "`flask archive restore` brings them back, `flask archive status` counts them.",
)
@click.option("--years", type=click.IntRange(min=1), help="closed more than this many years ago")
@click.option("--batch", type=click.IntRange(min=1, max=10_000), default=500, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="stop after about this many tickets (a maintenance window)")
@click.option("--dry-run", is_flag=True, help="count what would be archived, change nothing")
@click.pass_context
@with_appcontext
def archive_cli(ctx, years, batch, limit, dry_run):
    if ctx.invoked_subcommand is not None:
        return
    years = years or current_app.config["ARCHIVE_AFTER_YEARS"]
    cutoff = _cutoff(years)
    if dry_run:
        n = services.would_archive(cutoff)
        click.echo(f"would archive {n} ticket(s) closed before {cutoff:%Y-%m-%d %H:%M} UTC ({years} years)")
        return
    run = services.archive_closed(
        cutoff,
        batch=batch,
        limit=limit,
        commit=db.session.commit,
        progress=lambda n: click.echo(f"  {n} archived", err=True) if n % (batch * 20) < batch else None,
    )
    db.session.commit()
    example = f" (e.g. {', '.join(run.tracking_nos)})" if run.tracking_nos else ""
    click.echo(
        f"archived {run.archived} ticket(s) closed before {cutoff:%Y-%m-%d %H:%M} UTC ({years} years){example}; "
        f"{run.kept} closed before then stay in the working tables (cited by a case, objection, evaluation, "
        "opinion case, project or interview, merged with such a ticket" + (", or left by --limit)" if limit else ")")
    )


@archive_cli.command("restore")
@click.argument("tracking_nos", nargs=-1)
@click.option("--closed-after", type=click.DateTime(["%Y-%m-%d"]), help="every archived ticket closed on or after")
def restore_command(tracking_nos, closed_after):
    """Put archived tickets back: by tracking number, or all those closed on or after a day."""
    if bool(tracking_nos) == bool(closed_after):
        raise click.UsageError("give tracking numbers or --closed-after, not both")
    if closed_after:
        n = services.restore_closed_after(
            to_utc_naive(closed_after), commit=db.session.commit, actor=CLI_ACTOR
        )  # a local day
        db.session.commit()
        click.echo(f"restored {n} ticket(s) closed on or after {closed_after:%Y-%m-%d}")
        return
    try:
        restored = services.restore(list(tracking_nos), actor=CLI_ACTOR)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"restored {len(restored)} ticket(s): {', '.join(restored)}")


@archive_cli.command("status")
def status_command():
    """How many tickets are archived, and the closing dates they span."""
    s = queries.status()
    if not s.tickets:
        click.echo("the archive is empty")
        return
    click.echo(f"{s.tickets} ticket(s) archived, closed {s.oldest_closed:%Y-%m-%d} to {s.newest_closed:%Y-%m-%d} (UTC)")
