"""舆情 (public opinion) cases: a hotspot or an outside item analysed, handled, answered in public and reviewed."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """The staff pages (/opinion) and the public responses (/public/opinion)."""
    from hotline.opinion.views import bp, public_bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
