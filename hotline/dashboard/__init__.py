"""The supervisor dashboard, KPI rollups, key livelihood projects and the public statistics page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Blueprints and commands of this package (called by the application factory)."""
    from hotline.dashboard.api import bp as api_bp
    from hotline.dashboard.cli import kpi_cli
    from hotline.dashboard.public import bp as public_bp
    from hotline.dashboard.queries import LIVE_SECONDS
    from hotline.dashboard.views import bp as views_bp
    from hotline.extensions import csrf

    # How long a process reuses its count of the open tickets; tests count afresh unless they ask.
    app.config.setdefault("DASHBOARD_LIVE_SECONDS", 0 if app.testing else LIVE_SECONDS)
    # How long a process reuses a rendered dashboard (per user, question and language) and the public
    # statistics page (per month and language); the pages say when they were made.
    app.config.setdefault("DASHBOARD_PAGE_SECONDS", 0 if app.testing else LIVE_SECONDS)
    app.config.setdefault("PUBLIC_STATS_SECONDS", 0 if app.testing else 60)
    app.register_blueprint(views_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # GET only, bearer token or session
    app.cli.add_command(kpi_cli)
    app.add_template_filter(zip_rows)
    app.add_template_filter(map_rows)


def zip_rows(labels, columns) -> list[list]:
    """A chart's x labels and its series as table rows: [label, value of each series]."""
    return [[x, *(column[i] for column in columns)] for i, x in enumerate(labels)]


def map_rows(items, *keys, flat: bool = False) -> list[list]:
    """Dicts (or pairs) as table rows; ``flat``: [key, *values] from (key, list) pairs."""
    if flat:
        return [[item[keys[0]], *item[keys[1]]] for item in items]
    return [[item[k] for k in keys] for item in items]
