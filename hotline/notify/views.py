"""The in-app inbox: the bell's unread count on every page and the list of one's notifications."""

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hotline.core.params import form_id
from hotline.core.ui import may_show_layout
from hotline.extensions import db
from hotline.notify import services
from hotline.notify.templates import render

bp = Blueprint("notify", __name__)


@bp.before_app_request
def count_unread_notifications() -> None:
    """The bell's count, in ``g`` before the view (the layout shows it on every page; a template never queries):
    read with the signed-in user (``unread_on_load``), counted here only for a user loaded without it. A form
    shown again with its errors changed nothing, so the count read at the start still holds; a request that
    changes notifications redirects, and the next page reads them anew."""
    if not (may_show_layout() and current_user.is_authenticated):
        return
    counted = getattr(current_user, "unread_on_load", None)
    g.unread_notifications = counted if counted is not None else services.unread_count(current_user.id)


@bp.route("/notifications")
@login_required
def inbox():
    groups = services.inbox(current_user.id)
    from flask_babel import get_locale

    rendered = [(g, *render(g.latest.template, g.latest.payload, locale=str(get_locale()))) for g in groups]
    return render_template("notify/inbox.html", notes=rendered)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    note_id = form_id("id")
    services.mark_read(current_user.id, note_id)
    db.session.commit()
    return redirect(request.form.get("next") or url_for(".inbox"))
