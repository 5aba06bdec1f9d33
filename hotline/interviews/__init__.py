"""Online interviews (在线访谈) and press conferences (新闻发布会) with a unit's head: citizens' questions before
and during the session, moderated and scrubbed; answers published live; the transcript afterwards; unanswered
questions become tickets for the unit (docs/interviews.md).

``register(app)`` wires the staff pages (``/interviews``) and the portal's (``/portal/interviews``)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from hotline.interviews.views import bp, public_bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
