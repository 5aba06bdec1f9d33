"""``flask calendar …`` and ``flask sla …``: the working-day calendar, deadlines and the sweep by hand."""

from __future__ import annotations

import calendar as _stdcal
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from hotline.core.clock import LOCAL_TZ, to_local, to_utc_naive
from hotline.extensions import db

calendar_cli = AppGroup("calendar", help="The working-day calendar (工作日历).")
sla_cli = AppGroup("sla", help="Deadlines and the escalation ladder (统一督办).")


@calendar_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, help="The year, when a pasted notice does not name it.")
def import_command(file: Path, year: int | None):
    """Import a year from FILE: a CSV (date,is_workday[,note]) or the State Council notice's text."""
    from hotline.sla.admin import import_calendar_year
    from hotline.sla.notice import NoticeError, parse_calendar_text

    try:
        parsed = parse_calendar_text(file.read_text(encoding="utf-8-sig"), year)
    except NoticeError as exc:
        raise click.ClickException(str(exc)) from exc
    result = import_calendar_year(parsed)
    db.session.commit()
    click.echo(
        f"{result['year']}: {result['days']} days stored, {result['changed']} changed; "
        f"{len(parsed.holidays)} holidays, {len(parsed.makeup_days)} make-up workdays; "
        f"{result['recomputed']} provisional tickets recomputed"
    )


@calendar_cli.command("show")
@click.argument("year", type=int)
def show_command(year: int):
    """Print YEAR month by month: holidays and make-up workdays, and whether the year is known."""
    from hotline.sla.admin import calendar_year
    from hotline.sla.policy import current_calendar

    rows = calendar_year(year)
    known = year in current_calendar().known_years
    click.echo(
        f"{year}: {'known' if known else 'NOT KNOWN — deadlines in it are provisional (weekdays count)'}"
        f" ({len(rows)} days stored)"
    )
    by_day = {r.day: r for r in rows}
    for month in range(1, 13):
        cells = []
        for day in range(1, _stdcal.monthrange(year, month)[1] + 1):
            row = by_day.get(datetime(year, month, day).date())
            d = datetime(year, month, day).date()
            weekend = d.weekday() >= 5
            if row is None:
                mark = "." if not weekend else "-"
            elif row.is_workday and weekend:
                mark = "W"  # make-up workday (调休上班)
            elif not row.is_workday and not weekend:
                mark = "H"  # holiday on a weekday
            else:
                mark = "-" if weekend else "."
            cells.append(mark)
        click.echo(f"{month:2d}  {''.join(cells)}")
    click.echo("legend: . workday  - weekend  H holiday  W make-up workday")
    for row in rows:
        weekend = row.day.weekday() >= 5
        if row.is_workday == weekend or row.note:
            kind = "workday" if row.is_workday else "holiday"
            click.echo(f"{row.day.isoformat()} {kind:8s} {row.note or ''} [{row.source}]".rstrip())


@sla_cli.command("deadline")
@click.argument("start")
@click.option("--working-days", "working_days", type=int)
@click.option("--hours", type=float)
def deadline_command(start: str, working_days: int | None, hours: float | None):
    """Print the deadline N working days (or hours) after START (ISO 8601 with offset)."""
    from hotline.sla.deadlines import deadline_after
    from hotline.sla.policy import WD, H

    limit = working_days if hours is None else hours
    if limit is None or (working_days is not None and hours is not None):
        raise click.UsageError("give exactly one of --working-days N or --hours N")
    try:
        moment = datetime.fromisoformat(start)
    except ValueError as exc:
        raise click.BadParameter(f"not ISO 8601: {start}") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("START needs an offset, e.g. 2026-09-30T10:00:00+08:00")
    if working_days is not None and working_days < 1:
        raise click.BadParameter("--working-days is at least 1")
    result = deadline_after(to_utc_naive(moment), limit, WD if hours is None else H)
    text = to_local(result.at).isoformat()
    click.echo(f"{text} provisional" if result.provisional else text)


@sla_cli.command("sweep")
@click.option("--now", "now_text", help="Sweep as if it were this moment (ISO 8601 with offset).")
@click.option("--batch-size", default=500, show_default=True)
def sweep_command(now_text: str | None, batch_size: int):
    """Run one sweep synchronously and print what it did, per step."""
    from hotline.sla.ladder import run_sweep

    now = None
    if now_text:
        moment = datetime.fromisoformat(now_text)
        now = to_utc_naive(moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ))
    counts = run_sweep(now, batch_size=batch_size)
    if counts.get("skipped_locked"):
        click.echo("another sweep is running; nothing done")
        return
    for step in ("yellow", "red", "supervision_order", "escalate", "callback_closed", "resumed", "supervision_overdue"):
        click.echo(f"{step}: {counts.get(step, 0)}")
    click.echo(f"tickets: {counts.get('tickets', 0)}")


@sla_cli.command("rewarn")
@click.option("--batch-size", default=500, show_default=True)
def rewarn_command(batch_size: int):
    """Put open tickets' yellow-card times on the rule in force (after an upgrade or a change of
    SLA_WARNING_SHARE / SLA_WARNING_WORKING_DAYS); early yellow cards are taken back."""
    from hotline.core.clock import utcnow
    from hotline.sla.deadlines import recompute_warnings

    counts = recompute_warnings(utcnow(), batch_size=batch_size, commit=db.session.commit)
    db.session.commit()
    click.echo(f"yellow-card times moved: {counts['moved']}; early yellow cards taken back: {counts['withdrawn']}")


@sla_cli.command("seed-policies")
def seed_policies_command():
    """Add the default SLA policies that are missing."""
    from hotline.sla.admin import seed_default_policies

    added = seed_default_policies()
    db.session.commit()
    click.echo(f"policies added: {added}")
