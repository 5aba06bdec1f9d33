"""The in-app inbox: the bell's unread count on every page and the list of one's notifications."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from hotline.core.params import form_id
from hotline.extensions import db
from hotline.notify import services
from hotline.notify.templates import render

bp = Blueprint("notify", __name__)


def inject_unread_count():
    if not current_user.is_authenticated:
        return {"unread_notifications": 0}
    # Read with the user at the start of the request; a request that may have changed it counts again.
    counted = getattr(current_user, "unread_on_load", None)
    if counted is None or request.method not in ("GET", "HEAD"):
        counted = services.unread_count(current_user.id)
    return {"unread_notifications": counted}


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
