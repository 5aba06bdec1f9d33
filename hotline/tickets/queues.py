"""Work queues: the dispatcher's (派单, 退单审核, 答复审核) and the handler's workspace."""
from flask import Blueprint, render_template
from flask_login import current_user

from hotline.accounts.decorators import roles_required
from hotline.accounts.models import Role
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.tickets import queries
from hotline.tickets.workflow import Status

bp = Blueprint("queues", __name__)


# Each tab of the desk shows the first DESK_SIZE tickets in working order (the rest move up as these are
# handled; the ticket list filtered by status shows all): a city's backlog must not make the page slow.
DESK_SIZE = 20


@bp.route("/dispatch")
@roles_required(Role.DISPATCHER)
def dispatch():
    totals = queries.status_counts(current_user)
    totals = {"pending": totals.get(Status.PENDING_DISPATCH.value, 0),
              "returns": totals.get(Status.RETURN_REQUESTED.value, 0),
              "replies": totals.get(Status.REPLIED.value, 0)}
    pending = queries.dispatch_queue(current_user, DESK_SIZE)
    units = db.session.execute(db.select(OrgUnit).where(
        OrgUnit.kind.in_([UnitKind.DEPARTMENT.value, UnitKind.DISTRICT.value, UnitKind.STREET.value,
                          UnitKind.COMMUNITY.value]), OrgUnit.active).order_by(OrgUnit.path)).scalars().all()
    return render_template("tickets/dispatch.html", pending=pending, totals=totals, units=units,
                           returns=queries.return_requests(current_user, DESK_SIZE),
                           replies=queries.answers_to_review(current_user, DESK_SIZE))


@bp.route("/workspace")
@roles_required(Role.HANDLER)
def workspace():
    tickets = db.session.execute(queries.with_list_columns(queries.workspace(current_user).limit(300))
                                 ).scalars().all()
    return render_template("tickets/workspace.html", tickets=tickets, now=utcnow())
