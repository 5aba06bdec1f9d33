"""The bell counts news per ticket and kind; the inbox shows one row per group, bumped by the latest."""

from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.notify import services
from hotline.notify.models import Notification
from tests.factories import PASSWORD


def _notify(user, template, ticket=None, count=1, read=False):
    for _ in range(count):
        db.session.add(
            Notification(
                channel="in_app",
                recipient=user.username,
                recipient_user_id=user.id,
                template=template,
                payload={"tracking_no": ticket.tracking_no if ticket else ""},
                ticket_id=ticket.id if ticket else None,
                status="sent",
                read_at=utcnow() if read else None,
            )
        )
    db.session.commit()


def test_the_bell_counts_one_per_ticket_and_kind(world):
    user = world.district_handler
    first, second = world.ticket_in("dispatched"), world.ticket_in("dispatched")
    _notify(user, "yellow_card", first, count=3)
    _notify(user, "red_card", first)
    _notify(user, "yellow_card", second, count=2)
    _notify(user, "urged", count=2)  # about no ticket: each on its own
    _notify(user, "yellow_card", second, read=True)
    _notify(world.street_handler, "yellow_card", first, count=5)  # someone else's
    assert services.unread_count(user.id) == 5
    groups = services.inbox(user.id)
    assert [(g.latest.template, g.count, g.unread) for g in groups] == [
        ("yellow_card", 3, 2),
        ("urged", 1, 1),
        ("urged", 1, 1),
        ("red_card", 1, 1),
        ("yellow_card", 3, 3),
    ]
    # a new yellow card of the first ticket bumps its group to the top; the bell stays at 5
    _notify(user, "yellow_card", first)
    assert services.unread_count(user.id) == 5
    top = services.inbox(user.id)[0]
    assert (top.latest.ticket_id, top.count, top.unread) == (first.id, 4, 4)
    # reading a group reads all of it, and only it
    assert services.mark_read(user.id, top.latest.id) == 4
    db.session.commit()
    assert services.unread_count(user.id) == 4
    assert services.mark_read(world.street_handler.id, top.latest.id) == 0  # not theirs


def test_the_bell_and_the_inbox_page_show_groups(client, world):
    ticket = world.ticket_in("dispatched")
    _notify(world.district_handler, "yellow_card", ticket, count=120)
    client.post("/login", data={"username": "district_handler", "password": PASSWORD})
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="unread-count">1<' in page and "99+" not in page
    assert "×120" in page and page.count('name="id"') == 1
    latest = services.inbox(world.district_handler.id)[0].latest.id
    client.post("/notifications/read", data={"id": latest})
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)
