"""Views load, templates render (issue 24.4): the ticket page, the dispatch desk and a form shown again with its
errors run no SQL while their template renders. Every statement is counted from the template context
processors (which Flask runs just before ``before_render_template``) to ``template_rendered``; the pages are
built with everything they can show (duplicates, the model's routing suggestion, policy hints, supervision
records and requests, the supervisor's pending count, the bell's unread count)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import before_render_template, template_rendered

from hotline.core.clock import utcnow
from hotline.extensions import db
from hotline.knowledge.services import seed_demo_articles
from hotline.notify.services import queue_notification
from hotline.sla.models import SupervisionOrder, Urging
from hotline.tickets.models import ExtensionRequest, SuspensionRequest
from tests.factories import PASSWORD
from tests.integration.test_routing import closed_history


@pytest.fixture
def rendering(app, monkeypatch):
    """The statements run while a template renders, per template (clear it before the request to check)."""
    seen: dict[str, list[str]] = {}
    current: list[str] = []
    processors: list[str] = []  # run by the context processors of the template about to render

    update_template_context = app.update_template_context

    def with_processors(context):
        current.append("")
        try:
            update_template_context(context)
        finally:
            current.remove("")

    def started(sender, template, context, **extra):
        current.append(template.name)
        seen.setdefault(template.name, []).extend(processors)
        processors.clear()

    def finished(sender, template, context, **extra):
        current.remove(template.name)

    def executed(conn, cursor, statement, *args):
        for name in current:
            (seen[name] if name else processors).append(statement)

    monkeypatch.setattr(app, "update_template_context", with_processors)
    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    sa.event.listen(db.engine, "before_cursor_execute", executed)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", executed)
    template_rendered.disconnect(finished, app)
    before_render_template.disconnect(started, app)


def _supervised(world, ticket, unit):
    """An urging and a supervision order to ``unit``, an extension and a suspension request on ``ticket``."""
    now = utcnow()
    db.session.add_all(
        [
            Urging(
                ticket_id=ticket.id, unit_id=unit.id, message="请尽快办理", response_deadline=now + timedelta(days=1)
            ),
            SupervisionOrder(ticket_id=ticket.id, unit_id=unit.id, message="督办：限期答复", response_deadline=now),
            ExtensionRequest(
                ticket_id=ticket.id, unit_id=unit.id, reason="需现场核实", requested_deadline=now + timedelta(days=5)
            ),
            SuspensionRequest(ticket_id=ticket.id, unit_id=unit.id, reason="等待检测报告"),
        ]
    )
    db.session.commit()


def _page(app, client, username, path, rendering, template):
    client.post("/login", data={"username": username, "password": PASSWORD})
    rendering.clear()
    with app.app_context():  # as in production: the request's own session and ``g``, nothing loaded before it
        response = client.get(path)
    assert response.status_code == 200
    assert rendering.get(template) == [], f"{template} queried while rendering: {rendering.get(template)}"
    return response.get_data(as_text=True)


def test_the_dispatchers_ticket_page_and_desk_render_without_queries(app, world, client, rendering):
    closed_history(world, per_category=5)
    assert app.test_cli_runner().invoke(args=["routing", "train"]).exit_code == 0
    earlier = world.ticket_in("pending_dispatch")
    ticket = world.ticket_in("pending_dispatch", body="物业费未经业主大会擅自上调，小区物业乱收费。")
    _supervised(world, ticket, world.department)
    world.ticket_in("return_requested", citizen_phone="13900000001", address="一号")
    world.ticket_in("replied", citizen_phone="13900000002", address="二号")

    page = _page(app, client, "dispatcher", f"/tickets/{ticket.tracking_no}", rendering, "tickets/detail.html")
    assert 'id="duplicates"' in page and earlier.tracking_no in page  # the merge candidates
    assert 'id="dispatch-lead"' in page and 'id="supervision"' in page and "督办：限期答复" in page

    desk = _page(app, client, "dispatcher", "/dispatch", rendering, "tickets/dispatch.html")
    assert 'data-testid="smart-route"' in desk
    assert 'data-testid="duplicates"' in desk and 'data-testid="appeal-lines"' in desk
    assert "reject_return" in desk and "send_back_reply" in desk


def test_the_handlers_and_supervisors_ticket_page_render_without_queries(app, world, client, rendering):
    seed_demo_articles()
    db.session.commit()
    ticket = world.ticket_in("in_progress")
    _supervised(world, ticket, world.district)

    page = _page(app, client, "district_handler", f"/tickets/{ticket.tracking_no}", rendering, "tickets/detail.html")
    assert 'data-testid="kb-suggestions"' in page and 'data-testid="extension-form"' in page
    assert f"/tickets/{ticket.tracking_no}/supervision/urging/" in page  # the handler's response form

    client.post("/logout")
    page = _page(app, client, "supervisor", f"/tickets/{ticket.tracking_no}", rendering, "tickets/detail.html")
    assert 'id="pending-requests"' in page and 'id="urge-form"' in page and "需现场核实" in page


def test_a_refused_action_renders_the_page_again_without_queries(app, world, client, rendering):
    ticket = world.ticket_in("pending_dispatch")
    _supervised(world, ticket, world.department)
    client.post("/login", data={"username": "dispatcher", "password": PASSWORD})
    rendering.clear()
    with app.app_context():
        response = client.post(
            f"/tickets/{ticket.tracking_no}/actions/dispatch",
            data={"version": ticket.version - 1, "lead_unit": world.department.id},  # someone acted meanwhile
        )
    assert response.status_code == 409 and 'id="supervision"' in response.get_data(as_text=True)
    assert rendering["tickets/detail.html"] == []


def test_a_form_shown_again_with_its_errors_renders_without_queries(app, world, client, rendering):
    queue_notification("in_app", "operator", "urged", recipient_user_id=world.operator.id)
    db.session.commit()
    client.post("/login", data={"username": "operator", "password": PASSWORD})
    rendering.clear()
    with app.app_context():
        response = client.post("/console/", data={"outcome": "forward"})  # not an outcome the form offers
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="call-form"' in page  # the form again, with what was typed
    assert rendering["intake/console.html"] == []
    assert 'id="unread-count">1<' in page  # the bell's count was read before the view
