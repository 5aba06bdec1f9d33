"""Every signed-in page reads the user, their roles and units and the bell's unread count in one statement."""

from flask import g
from flask_login import login_user

from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.notify.models import Notification
from hotline.notify.views import count_unread_notifications
from tests.factories import PASSWORD


def _notify(user, count, read=False):
    for _ in range(count):
        db.session.add(
            Notification(
                channel="in_app",
                recipient=user.username,
                recipient_user_id=user.id,
                template="urged",
                payload={},
                status="sent",
                read_at=utcnow() if read else None,
            )
        )
    db.session.commit()


def test_the_user_loader_reads_the_bell_count_with_the_user(app, world, statements):
    _notify(world.district_handler, 2)
    _notify(world.district_handler, 1, read=True)
    _notify(world.street_handler, 4)  # someone else's
    identity = world.district_handler.get_id()
    db.session.expire_all()
    statements.clear()
    user = app.login_manager._user_callback(identity)
    assert user.unread_on_load == 2
    assert [(r.role, r.scope_unit.code) for r in user.roles] == [("handler", "d1")] and user.org_unit.code == "d1"
    assert len(statements) == 1, statements  # roles, scopes, unit and the count came in that one statement
    assert app.login_manager._user_callback("999999:1") is None


def test_the_bell_shows_the_count_and_clears(client, world):
    _notify(world.district_handler, 2)
    client.post("/login", data={"username": "district_handler", "password": PASSWORD})
    assert 'id="unread-count">2<' in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read", data={})
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)


def test_the_bell_count_is_read_before_the_view(app, world, statements):
    _notify(world.district_handler, 1)
    user = db.session.get(type(world.district_handler), world.district_handler.id)
    for method in ("GET", "POST"):
        with app.test_request_context("/", method=method):
            user.unread_on_load = 7  # as read with the user when the request started
            login_user(user)
            statements.clear()
            count_unread_notifications()
            assert g.unread_notifications == 7 and statements == []
    with app.test_request_context("/", method="POST"):
        del user.unread_on_load  # a user loaded otherwise (just signed in) is counted
        login_user(user)
        count_unread_notifications()
        assert g.unread_notifications == 1
    with app.test_request_context("/api/v1/tickets"):
        g.pop("unread_notifications", None)
        login_user(user)
        count_unread_notifications()
        assert "unread_notifications" not in g  # no layout there
