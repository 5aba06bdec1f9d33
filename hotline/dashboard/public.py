"""``/public/stats``: the figures the city discloses (政务公开), no login, no personal data."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from hotline.assessment.queries import public_ranking
from hotline.core.i18n import current_language
from hotline.core.live import reused
from hotline.core.replica import read_from_replica
from hotline.core.stats import minimum_answers, published_rate
from hotline.dashboard import queries, services
from hotline.evaluation.services import published_questionnaires, published_results

bp = Blueprint("public_stats", __name__, url_prefix="/public")
TREND_MONTHS = services.PUBLIC_MONTHS


@bp.route("/stats")
@read_from_replica
def stats():
    today = services.local_today()
    months = queries.last_months(today, TREND_MONTHS)
    month = request.args.get("month") or months[-1][0].strftime("%Y-%m")
    try:
        year, number = (int(x) for x in month.split("-"))
        start, end = queries.month_bounds(year, number)
    except (ValueError, TypeError):
        abort(400)
    # The same for every visitor: a process reuses the rendered body for PUBLIC_STATS_SECONDS, for the
    # months the page offers only (any other month is rendered each time: no key per made-up month).
    month = start.strftime("%Y-%m")
    offered = [m[0].strftime("%Y-%m") for m in months]
    seconds = current_app.config["PUBLIC_STATS_SECONDS"] if month in offered else 0
    board = reused(
        "public_stats",
        (month, offered[-1], current_language()),
        seconds,
        lambda: Markup(render_template("dashboard/_public_board.html", **_figures(month, months, start, end))),
    )
    # 社会监督评议: published questionnaires, in their own section (every figure gated by the minimum n).
    evaluation = [(q, published_results(q)) for q in published_questionnaires()]
    return render_template(
        "dashboard/public_stats.html",
        board=board,
        evaluation=evaluation,
        min_answers=minimum_answers(),
        title=_("Public statistics"),
    )


def _figures(month, months, start, end) -> dict:
    weights = services.weights()
    # No rate on fewer answers than PUBLIC_MIN_ANSWERS: the page says "too few answers (n=…)" instead.
    units = [
        {
            **u,
            "on_time_rate": published_rate(u["on_time_rate"], u["answered"]),
            "satisfaction_rate": published_rate(u["satisfaction_rate"], u["rated"]),
        }
        for u in queries.public_month(start, end, weights)
    ]
    trend = queries.public_trend(months)
    public_projects = queries.projects(public_only=True)
    chart = {
        "kind": "line",
        "x": trend["months"],
        "series": [{"name": name, "data": values} for name, values in list(trend["series"].items())[:8]],
    }
    return dict(
        month=month,
        months=[m[0].strftime("%Y-%m") for m in months],
        units=units,
        trend=trend,
        chart=chart,
        answers=queries.released_answers(),
        projects=public_projects,
        boards={
            pid: {**b, "on_time_rate": published_rate(b["on_time_rate"], b["answered"])}
            for pid, b in queries.public_project_boards([p.id for p in public_projects]).items()
        },
        weights=weights,
        assessment=public_ranking(),
        min_answers=minimum_answers(),
    )
