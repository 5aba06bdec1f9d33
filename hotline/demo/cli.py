"""``flask seed-demo`` and ``flask seed-reference``."""

import click

from hotline.extensions import db


class RefusedToSeed(click.ClickException):
    exit_code = 2


@click.command("seed-demo")
@click.option("--tickets", default=360, show_default=True, help="How many demo tickets to create.")
@click.option(
    "--force",
    is_flag=True,
    help="Merge the demo into a database that holds other data (a real city's): adds the demo units "
    "and accounts with the published password. Never on a production database.",
)
def seed_demo_command(tickets: int, force: bool):
    """Load the demo city, accounts and tickets into an empty or demo database. A second run changes nothing."""
    from hotline.demo.seed import DEMO_PASSWORD, foreign_data, seed_demo

    foreign = foreign_data()
    if foreign and not force:
        url = db.engine.url.render_as_string(hide_password=True)
        found = "; ".join(
            f"{len(names)}{'+' if kind == 'tickets' and len(names) == 5 else ''} {kind} (e.g. {', '.join(names[:3])})"
            for kind, names in foreign.items()
        )
        raise RefusedToSeed(
            f"refusing to seed the demo into {url}: it holds data the demo did not make: {found}. "
            f"The demo would add its org units and accounts with the published password {DEMO_PASSWORD!r}. "
            "Point DATABASE_URL at an empty database, or give --force to merge the demo anyway."
        )
    summary = seed_demo(ticket_count=tickets, mark=not foreign)
    db.session.commit()
    click.echo(summary)


@click.command("seed-reference")
def seed_reference_command():
    """Load what every installation needs: the working-day calendar and default SLA policies."""
    from hotline.demo.seed import seed_reference_data

    added = seed_reference_data()
    db.session.commit()
    click.echo(f"calendar days added: {added['calendar_days']}, SLA policies added: {added['sla_policies']}")
