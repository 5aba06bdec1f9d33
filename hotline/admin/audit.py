"""The admins' audit history page (``/admin/audit``): the rows ``hotline.core.audit`` records."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from hotline.accounts.decorators import permission_required
from hotline.core.audit import ACTIONS, audit_entries
from hotline.core.params import query_page
from hotline.extensions import db
from hotline.permissions import can_administer

bp = Blueprint("audit", __name__, url_prefix="/admin")


@bp.route("/audit")
@permission_required(can_administer)
def index():
    filters = {k: (request.args.get(k) or "").strip()[:80] or None for k in ("action", "actor", "target")}
    page = db.paginate(audit_entries(**filters), page=query_page(), per_page=100, error_out=False)
    return render_template("admin/audit.html", page=page, filters=filters, actions=ACTIONS)
