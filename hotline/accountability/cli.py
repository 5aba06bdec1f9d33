"""``flask accountability remind``: tell units whose rectification report is overdue (once per deadline)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hotline.accountability.services import remind_overdue_reports
from hotline.extensions import db

accountability_cli = AppGroup("accountability", help="Accountability cases: overdue rectification reports.")


@accountability_cli.command("remind")
def remind_command():
    """Notify each unit (and the supervisor who opened the case) whose report deadline has passed."""
    reminded = remind_overdue_reports()
    db.session.commit()
    click.echo(f"{reminded} overdue report(s) reminded")
