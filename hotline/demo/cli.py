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
