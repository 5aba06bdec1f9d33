"""考核: the monthly, quarterly and yearly assessment of units, frozen when its period closes (docs/assessment.md)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """The blueprint and the ``flask assessment`` commands (called by the application factory)."""
    from hotline.assessment.cli import assessment_cli
    from hotline.assessment.views import bp

    app.config.setdefault("ASSESSMENT_OBJECTION_DAYS", 5)
    app.register_blueprint(bp)
    app.cli.add_command(assessment_cli)
