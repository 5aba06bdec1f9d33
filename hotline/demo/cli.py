"""``flask seed-demo``."""
import click

from hotline.extensions import db


@click.command("seed-demo")
@click.option("--tickets", default=360, show_default=True, help="How many demo tickets to create.")
def seed_demo_command(tickets: int):
    """Load the demo city, accounts and tickets. A second run changes nothing."""
    from hotline.demo.seed import seed_demo

    summary = seed_demo(ticket_count=tickets)
    db.session.commit()
    click.echo(summary)


@click.command("seed-reference")
def seed_reference_command():
    """Load what every installation needs: the working-day calendar and default SLA policies."""
    from hotline.demo.seed import seed_reference_data

    added = seed_reference_data()
    db.session.commit()
    click.echo(f"calendar days added: {added['calendar_days']}, SLA policies added: {added['sla_policies']}")
