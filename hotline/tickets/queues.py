"""Work queues: the dispatcher's (派单, 退单审核, 答复审核) and the handler's workspace."""
from flask import Blueprint, render_template
from flask_login import current_user

from hotline.accounts.decorators import roles_required
from hotline.accounts.models import Role
from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.tickets import queries
from hotline.tickets.handling import suggested_unit
from hotline.tickets.workflow import Status

bp = Blueprint("queues", __name__)


@bp.route("/dispatch")
@roles_required(Role.DISPATCHER)
def dispatch():
    pending = db.session.execute(queries.with_list_columns(queries.dispatch_queue(current_user).limit(200))
                                 ).scalars().all()
    returns = db.session.execute(queries.in_status(current_user, Status.RETURN_REQUESTED)
                                 .order_by(queries.Ticket.updated_at)).scalars().all()
    replies = db.session.execute(queries.in_status(current_user, Status.REPLIED)
                                 .order_by(queries.Ticket.updated_at)).scalars().all()
    units = db.session.execute(db.select(OrgUnit).where(
        OrgUnit.kind.in_([UnitKind.DEPARTMENT.value, UnitKind.DISTRICT.value, UnitKind.STREET.value,
                          UnitKind.COMMUNITY.value]), OrgUnit.active).order_by(OrgUnit.path)).scalars().all()
    suggestions = {t.id: suggested_unit(t) for t in pending}
    return render_template("tickets/dispatch.html", pending=pending, returns=returns, replies=replies,
                           units=units, suggestions=suggestions)


@bp.route("/workspace")
@roles_required(Role.HANDLER)
def workspace():
    tickets = db.session.execute(queries.with_list_columns(queries.workspace(current_user).limit(300))
                                 ).scalars().all()
    return render_template("tickets/workspace.html", tickets=tickets, now=utcnow())
