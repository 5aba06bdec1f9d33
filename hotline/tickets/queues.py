"""Work queues: the dispatcher's (派单, 退单审核, 答复审核) and the handler's workspace."""

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.core.clock import utcnow
from hotline.core.params import query_page
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.permissions import can_dispatch, can_handle
from hotline.tickets import queries

bp = Blueprint("queues", __name__)


# Each tab of the desk shows DESK_SIZE tickets a page, in working order (oldest first) or newest first: a
# city's backlog must not make the page slow, and new work must be reachable without the ticket list.
DESK_SIZE = 20
DESK_TABS = tuple(queries.DESK_STATUSES)


@bp.route("/dispatch")
@permission_required(can_dispatch)
def dispatch():
    """?tab= (pending, returns, replies) opens that tab; ?sort=newest and ?page= apply to it, the others
    show their first page in working order. An action taken here comes back to the same tab."""
    tab = request.args.get("tab") if request.args.get("tab") in DESK_TABS else "pending"
    newest, page = request.args.get("sort") == "newest", query_page()

    def window(name):  # (offset, newest) for a tab
        return ((page - 1) * DESK_SIZE, newest) if name == tab else (0, False)

    units = (
        db.session.execute(
            db.select(OrgUnit)
            .where(
                OrgUnit.kind.in_(
                    [
                        UnitKind.DEPARTMENT.value,
                        UnitKind.DISTRICT.value,
                        UnitKind.STREET.value,
                        UnitKind.COMMUNITY.value,
                    ]
                ),
                OrgUnit.active,
            )
            .order_by(OrgUnit.path)
        )
        .scalars()
        .all()
    )
    pending = queries.dispatch_queue(current_user, DESK_SIZE, *window("pending"))
    # Smart dispatch and duplicate hints for the whole queue at once, loaded here so the template only renders.
    from hotline.search.routing import suggest_routes
    from hotline.search.services import duplicates_for_queue

    return render_template(
        "tickets/dispatch.html",
        tab=tab,
        sort="newest" if newest else "oldest",
        page=page,
        size=DESK_SIZE,
        totals=queries.desk_counts(current_user),
        units=units,
        pending=pending,
        smart=suggest_routes(pending),
        queue_dups=duplicates_for_queue(pending),
        returns=queries.return_requests(current_user, DESK_SIZE, *window("returns")),
        replies=queries.answers_to_review(current_user, DESK_SIZE, *window("replies")),
    )


@bp.route("/workspace")
@permission_required(can_handle)
def workspace():
    """What the handler's units have to do, by the deadline shown; ?show=waiting: the rest of their open work."""
    waiting = request.args.get("show") == "waiting"
    counts = queries.workspace_counts(current_user)
    tickets = queries.workspace_page(
        current_user,
        waiting,
        query_page(),
        current_app.config["TICKETS_PER_PAGE"],
        counts["waiting" if waiting else "to_do"],
    )
    return render_template("tickets/workspace.html", tickets=tickets, now=utcnow(), waiting=waiting, counts=counts)
