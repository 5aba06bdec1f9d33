"""The archive's staff page (``/archive/``): its status, a lookup of archived tickets, one ticket's file read
from its payload, and the admins' restore (the service ``flask archive restore`` calls)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.archive import queries, services
from hotline.archive.forms import ArchiveLookupForm, RestoreForm
from hotline.core.params import query_page
from hotline.extensions import db
from hotline.permissions import can_restore_archive, can_search_archive, can_see_contact

bp = Blueprint("archive", __name__, url_prefix="/archive")


@bp.route("/")
@permission_required(can_search_archive)
def index():
    form = ArchiveLookupForm(request.args)
    status = queries.status()
    if request.args and not form.validate():
        return render_template("archive/index.html", form=form, status=status, page=None, narrowed=True), 400
    filters = form.lookup()
    page = db.paginate(
        queries.lookup(filters),
        page=query_page(),
        per_page=current_app.config["TICKETS_PER_PAGE"],
        error_out=False,
        count=False,
    )
    # Unfiltered, the status already counted the archive: no second COUNT over a table of years.
    page.total = queries.lookup_count(filters) if filters.narrowed else status.tickets
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "archive/index.html", form=form, status=status, page=page, narrowed=filters.narrowed, args=args
    )


def _render_file(archived_no: str, form: RestoreForm | None = None):
    file = queries.archived_file(archived_no)
    if file is None:
        abort(404)
    return render_template(
        "archive/detail.html", file=file, form=form or RestoreForm(), show_contact=can_see_contact(current_user)
    )


@bp.route("/<archived_no>")
@permission_required(can_search_archive)
def detail(archived_no):
    return _render_file(archived_no)


@bp.route("/<archived_no>/restore", methods=["POST"])
@permission_required(can_restore_archive)
def restore(archived_no):
    form = RestoreForm()
    if not form.validate():
        return _render_file(archived_no, form), 400
    restored = services.restore([archived_no], actor=current_user)  # NotFound (404) when not in the archive
    db.session.commit()
    flash(_("Restored to the working tables: %(numbers)s.", numbers=", ".join(restored)), "success")
    return redirect(url_for("tickets.detail", tracking_no=archived_no))
