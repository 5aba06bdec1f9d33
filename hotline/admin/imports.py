"""/admin/import (upload, preview, confirm) and /admin/export/<kind>.<format>: the web face of hotline.admin.bulk.

The preview runs the same plan as ``flask … import --dry-run`` and rolls it back; the uploaded file waits under
the instance folder (``imports/``, one file per admin and upload, removed when applied or after a day) until the
admin confirms, when the plan runs again on the database as it is then and is committed only if every row is
still valid.
"""

from __future__ import annotations

import os
import re
import secrets
import time

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.accounts.decorators import permission_required
from hotline.admin import bulk
from hotline.admin.forms import IMPORT_KINDS, ApplyImportForm, ImportForm
from hotline.core.spreadsheets import CONTENT_TYPES
from hotline.extensions import db
from hotline.permissions import can_administer

bp = Blueprint("imports", __name__, url_prefix="/admin")
PREVIEW_ROWS = 500  # created / changed rows listed on the preview; the rest are counted
PENDING_MAX_AGE = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KIND_PAGES = {
    "units": "admin.units",
    "categories": "admin.categories",
    "users": "admin.users",
    "routing": "catalogue.routing",
}


@bp.before_request
@permission_required(can_administer)
def admins_only():
    return None


def _pending_dir() -> str:
    path = os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def _pending_path(token: str, file_format: str) -> str:
    return os.path.join(_pending_dir(), f"{current_user.id}-{token}.{file_format}")


def _keep_upload(data: bytes, file_format: str) -> str:
    folder = _pending_dir()
    for name in os.listdir(folder):  # forget uploads nobody confirmed
        path = os.path.join(folder, name)
        if os.path.getmtime(path) < time.time() - PENDING_MAX_AGE:
            os.remove(path)
    token = secrets.token_urlsafe(18)
    with open(_pending_path(token, file_format), "wb") as out:
        out.write(data)
    return token


def _page(form, *, result=None, file_error=None, apply_form=None, filename=None, status=200):
    return render_template(
        "admin/import.html",
        form=form,
        kinds=IMPORT_KINDS,
        result=result,
        file_error=file_error,
        apply_form=apply_form,
        filename=filename,
        columns={k: bulk.EXPORT_COLUMNS.get(k, spec.columns) for k, spec in bulk.KINDS.items()},
        preview_rows=PREVIEW_ROWS,
    ), status


@bp.route("/import", methods=["GET", "POST"])
def index():
    form = ImportForm()
    if request.method == "GET" and request.args.get("kind") in bulk.KINDS:
        form.kind.data = request.args["kind"]
    if not form.validate_on_submit():
        return _page(form, status=400 if form.errors else 200)
    upload = form.file.data
    filename = os.path.basename(upload.filename or "")[:200]
    file_format = bulk.format_for(filename)
    if file_format is None:
        return _page(form, file_error=_("Use a .csv or .xlsx file."), status=400)
    data = upload.read()
    try:
        result = bulk.import_file(form.kind.data, data, file_format, actor=current_user, apply=False, source=filename)
    except bulk.ImportFileError as exc:
        db.session.rollback()
        return _page(form, file_error=str(exc.message), filename=filename, status=400)
    db.session.rollback()  # a preview writes nothing
    apply_form = None
    if not result.errors and result.has_changes:
        apply_form = ApplyImportForm(
            formdata=None, kind=form.kind.data, token=_keep_upload(data, file_format), filename=filename
        )
    return _page(form, result=result, apply_form=apply_form, filename=filename, status=400 if result.errors else 200)


@bp.route("/import/apply", methods=["POST"])
def apply():
    form = ApplyImportForm()
    kind, token, filename = form.kind.data, form.token.data or "", form.filename.data or ""
    if not form.validate_on_submit() or kind not in bulk.KINDS or not TOKEN.match(token):
        abort(400)
    file_format = bulk.format_for(filename) or "csv"
    path = _pending_path(token, file_format)
    upload_form = ImportForm(formdata=None, kind=kind)
    if not os.path.exists(path):
        return _page(
            upload_form,
            file_error=_("This upload has expired or was already applied: upload the file again."),
            status=400,
        )
    with open(path, "rb") as stored:
        data = stored.read()
    try:
        result = bulk.import_file(kind, data, file_format, actor=current_user, apply=True, source=filename)
    except bulk.ImportFileError as exc:
        db.session.rollback()
        return _page(upload_form, file_error=str(exc.message), filename=filename, status=400)
    if not result.applied:  # the database changed since the preview and a row is no longer valid
        db.session.rollback()
        return _page(upload_form, result=result, filename=filename, status=400)
    db.session.commit()
    os.remove(path)
    counts = result.counts
    flash(
        _(
            "Imported %(file)s: %(create)d created, %(change)d changed, %(unchanged)d unchanged.",
            file=filename or kind,
            **counts,
        ),
        "success",
    )
    return redirect(url_for(KIND_PAGES[kind]))


@bp.route("/export/<any(units, categories, users, routing):kind>.<any(csv, xlsx):file_format>")
def export(kind, file_format):
    data = bulk.export_file(kind, file_format, actor=current_user)
    db.session.commit()  # the export's audit row
    content_type = CONTENT_TYPES[file_format] + ("; charset=utf-8" if file_format == "csv" else "")
    return Response(
        data, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{kind}.{file_format}"'}
    )
