"""The console's wrap-up list (issue 25.5): an operator's calls that ended without a ticket, a call answered by
voice recorded as a direct answer in two clicks, an abandoned call closed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.api.services import create_api_key
from hotline.core.audit import AuditEntry
from hotline.core.clock import to_local, utcnow
from hotline.extensions import db
from hotline.tickets.models import Ticket, TicketEvent
from tests.factories import PASSWORD
from tests.integration.test_cti import as_own, call_row, post, sign_in


@pytest.fixture
def calls(app, world):
    """The operator (8001) and a second operator (8002), and calls of the last hours through the telephony's
    door: answered and unlinked (a1), abandoned while ringing at 8001 (a2), linked to a ticket (a3), still
    going on (a4), the other operator's (a5), ended before the wrap-up window (a6)."""
    _, key = create_api_key("呼叫中心", kind="cti")
    world.operator.extension = "8001"
    world.operator2 = create_user(
        "operator2", PASSWORD, "operator2", org_unit=world.hotline, roles=[(Role.OPERATOR, world.city)]
    )
    world.operator2.extension = "8002"
    db.session.commit()
    telephony = app.test_client()
    now = utcnow()

    def at(minutes_ago: float) -> str:
        return to_local(now - timedelta(minutes=minutes_ago)).isoformat()

    def event(kind, call_id, minutes_ago, agent=None):
        body = dict(event=kind, call_id=call_id, caller="13800138000", time=at(minutes_ago))
        if agent:
            body["agent"] = agent
        assert post(telephony, key, **body).status_code == 200

    for call_id, agent, ring, answer, hangup in (
        ("a1", "8001", 30, 29.5, 25),
        ("a2", "8001", 20, None, 19),
        ("a3", "8001", 15, 14.9, 12),
        ("a4", "8001", 5, 4.9, None),
        ("a5", "8002", 10, 9.9, 8),
        ("a6", "8001", 600, 599, 590),
    ):
        event("ringing", call_id, ring, agent)
        if answer is not None:
            event("answered", call_id, answer, agent)
        if hangup is not None:
            event("hangup", call_id, hangup)
    linked = world.ticket_in("in_progress")
    call_row("a3").ticket_id = linked.id
    db.session.commit()
    return world


def console_calls(client) -> list[str]:
    page = as_own(client.get, "/console/").get_data(as_text=True)
    section = page.split('id="wrap-up"', 1)[1]
    return re.findall(r'data-call="([^"]+)"', section)


def signed_in(app, username):
    client = app.test_client()
    as_own(sign_in, client, username)
    return client


def test_the_list_shows_only_the_operators_own_ended_calls_without_a_ticket(app, calls, monkeypatch):
    operator = signed_in(app, "operator")
    assert console_calls(operator) == ["a2", "a1"]  # newest first: the abandoned call ended last
    page = as_own(operator.get, "/console/").get_data(as_text=True)
    row_a1 = page.split('data-call="a1"', 1)[1].split("</tr>", 1)[0]
    row_a2 = page.split('data-call="a2"', 1)[1].split("</tr>", 1)[0]
    assert "13800138000" in row_a1 and "4 分 30 秒" in row_a1 and "/console/calls/a1/answer" in row_a1  # talk time
    assert "未接听" in row_a2 and 'value="called_back"' in row_a2 and "/answer" not in row_a2
    assert call_row("a2").operator_id == calls.operator.id  # it rang at 8001, nobody answered
    assert console_calls(signed_in(app, "operator2")) == ["a5"]
    monkeypatch.setitem(app.config, "CTI_WRAP_UP_HOURS", 0.35)  # 21 minutes: a1 ended 25 minutes ago
    assert console_calls(operator) == ["a2"]


def test_a_call_answered_by_voice_becomes_a_direct_answer_in_two_clicks(app, calls):
    operator = signed_in(app, "operator")
    form = as_own(operator.get, "/console/calls/a1/answer")
    assert form.status_code == 200
    title = re.search(r'name="title"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    assert title.startswith("电话咨询")
    saved = as_own(
        operator.post,
        "/console/calls/a1/answer",
        data={"category_id": calls.category.id, "title": title, "answer": "低保申请请到街道办事处，携带户口本。"},
    )
    assert saved.status_code == 302 and "/console/" in saved.headers["Location"]
    call = call_row("a1")
    ticket = db.session.get(Ticket, call.ticket_id)
    assert ticket.status == "answered_directly" and ticket.appeal_type == "consultation"
    assert ticket.citizen_phone == "13800138000" and ticket.category_id == calls.category.id
    assert ticket.channel == "phone" and ticket.created_by_id == calls.operator.id
    event = db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id)).scalar_one()
    assert event.action == "answer_directly" and event.note == "低保申请请到街道办事处，携带户口本。"
    assert console_calls(operator) == ["a2"]
    # The same call again (a second tab): nothing more is registered.
    again = as_own(
        operator.post, "/console/calls/a1/answer", data={"category_id": calls.category.id, "title": "x", "answer": "y"}
    )
    assert again.status_code == 302
    assert (
        db.session.execute(select(func.count()).select_from(Ticket).filter_by(appeal_type="consultation")).scalar() == 1
    )


@pytest.mark.parametrize("outcome", ["called_back", "dismissed"])
def test_an_abandoned_call_is_closed_and_audited(app, calls, outcome):
    operator = signed_in(app, "operator")
    closed = as_own(operator.post, "/console/calls/a2/close", data={"outcome": outcome})
    assert closed.status_code == 302
    call = call_row("a2")
    assert call.wrap_up == outcome and call.wrapped_up_at is not None and call.ticket_id is None
    audit = db.session.execute(select(AuditEntry).filter_by(action="call.wrap_up")).scalar_one()
    assert audit.target == "a2" and audit.actor_id == calls.operator.id and outcome in str(audit.detail)
    assert console_calls(operator) == ["a1"]


def test_another_operator_and_other_roles_are_refused_and_nothing_changes(app, calls):
    other = signed_in(app, "operator2")
    assert as_own(other.get, "/console/calls/a1/answer").status_code == 403
    answer = {"category_id": calls.category.id, "title": "电话咨询", "answer": "已答复"}
    assert as_own(other.post, "/console/calls/a1/answer", data=answer).status_code == 403
    assert as_own(other.post, "/console/calls/a2/close", data={"outcome": "dismissed"}).status_code == 403
    dispatcher = signed_in(app, "dispatcher")
    assert as_own(dispatcher.post, "/console/calls/a2/close", data={"outcome": "dismissed"}).status_code == 403
    supervisor = signed_in(app, "supervisor")
    assert as_own(supervisor.post, "/console/calls/a1/answer", data=answer).status_code == 403
    assert call_row("a1").ticket_id is None and call_row("a2").wrap_up is None
    assert (
        db.session.execute(select(func.count()).select_from(AuditEntry).filter_by(action="call.wrap_up")).scalar() == 0
    )


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"title": "电话咨询", "answer": ""}, "answer", "必填"),
        ({"title": "", "answer": "已答复"}, "title", "必填"),
        ({"title": "电话咨询", "answer": "已答复", "category": 999999}, "category_id", "未知的诉求分类"),
        ({"title": "电话咨询", "answer": "已答复", "category": None}, "category_id", "必填"),
        ({"title": "x" * 101, "answer": "已答复"}, "title", "100"),
    ],
)
def test_bad_input_gives_a_form_error_and_changes_nothing(app, calls, data, field, message):
    operator = signed_in(app, "operator")
    data = dict(data)  # the parameters are shared by the sqlite and postgresql runs
    category = data.pop("category", calls.category.id)
    form = {**data, **({"category_id": category} if category is not None else {})}
    refused = as_own(operator.post, "/console/calls/a1/answer", data=form)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    field_html = page.split(f'name="{field}"', 1)[1][:600]
    assert "invalid-feedback" in field_html and message in field_html
    assert call_row("a1").ticket_id is None
    assert (
        db.session.execute(select(func.count()).select_from(Ticket).filter_by(appeal_type="consultation")).scalar() == 0
    )


def test_the_wrong_kind_of_call_is_refused(app, calls):
    operator = signed_in(app, "operator")
    answer = {"category_id": calls.category.id, "title": "电话咨询", "answer": "已答复"}
    abandoned = as_own(operator.post, "/console/calls/a2/answer", data=answer)  # nobody answered it
    assert abandoned.status_code == 400 and call_row("a2").ticket_id is None
    assert as_own(operator.post, "/console/calls/a1/close", data={"outcome": "dismissed"}).status_code == 400
    assert as_own(operator.post, "/console/calls/a2/close", data={"outcome": "ignored"}).status_code == 400
    assert call_row("a1").wrap_up is None and call_row("a2").wrap_up is None
    going_on = as_own(operator.get, "/console/calls/a4/answer")  # not ended: back to the console
    assert going_on.status_code == 302 and call_row("a4").ticket_id is None
