"""``flask tickets recount``: the stored counts of closed work per scope, counted afresh from the tickets."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from hotline.accounts.cli import CLI_ACTOR
from hotline.core.audit import record_audit
from hotline.extensions import db
from hotline.tickets import counts
from hotline.tickets.models import ScopeFinalCount

tickets_cli = AppGroup("tickets", help="Tickets: the stored counts of the ticket list.")


@tickets_cli.command("recount")
def recount_command():
    """Count every scope's closed tickets afresh. The hotline keeps these counts itself; run this after tickets
    were changed outside it (rows restored from a backup, a correction made in SQL)."""
    started = time.perf_counter()
    before = db.session.execute(select(func.coalesce(func.sum(ScopeFinalCount.n), 0))).scalar_one()
    counts.recount_units()
    after = db.session.execute(select(func.coalesce(func.sum(ScopeFinalCount.n), 0))).scalar_one()
    record_audit(CLI_ACTOR, "tickets.recount", "scope_final_count", {"sum": [before, after]})
    db.session.commit()
    click.echo(
        f"counted the closed tickets of every scope afresh in {time.perf_counter() - started:.1f} s "
        f"(sum of the stored counts: {before} before, {after} after)"
    )
