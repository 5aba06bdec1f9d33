"""The console's wrap-up lists (issue 25.5): an operator's calls that ended without a ticket, and the calls
abandoned in the queue that every operator shares; a call recorded as a direct answer in two clicks (the form
opens filled in), an abandoned call closed, each at most once; the lists told of a hang-up at once."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy import update as sa_update

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.api.services import create_api_key
from hotline.core.audit import AuditEntry
from hotline.core.clock import to_local, utcnow
from hotline.cti.bus import LocalBus
from hotline.extensions import db
from hotline.tickets.models import Category, Ticket, TicketEvent
from hotline.tickets.services import register_ticket
from tests.factories import PASSWORD, appeal
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
    world.cti_key = key
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
    section = page.split('id="wrap-up"', 1)[1].split('id="queue-abandoned"', 1)[0]
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
    assert "未接听" in row_a2 and 'value="called_back"' in row_a2 and "/console/calls/a2/answer" in row_a2
    assert call_row("a2").operator_id == calls.operator.id  # it rang at 8001, nobody answered
    assert console_calls(signed_in(app, "operator2")) == ["a5"]
    monkeypatch.setitem(app.config, "CTI_WRAP_UP_HOURS", 0.35)  # 21 minutes: a1 ended 25 minutes ago
    assert console_calls(operator) == ["a2"]


def form_values(html: str) -> dict:
    """What the direct-answer form holds as it opens: what a browser sends when the operator clicks save."""
    category = re.search(r'<option value="(\d+)" selected>', html)
    return {
        "category_id": category.group(1) if category else "",
        "title": re.search(r'name="title"[^>]*value="([^"]*)"', html).group(1),
        "answer": re.search(r'name="answer"[^>]*>([^<]*)</textarea>', html).group(1).strip(),
    }


def test_a_call_answered_by_voice_becomes_a_direct_answer_in_two_clicks(app, calls):
    operator = signed_in(app, "operator")
    form = as_own(operator.get, "/console/calls/a1/answer")  # click 1
    assert form.status_code == 200
    held = form_values(form.get_data(as_text=True))
    assert held["title"].startswith("电话咨询") and held["answer"] == "已电话解答。"
    assert held["category_id"] == str(calls.category.id)  # the only category: the picker's first
    saved = as_own(operator.post, "/console/calls/a1/answer", data=held)  # click 2: nothing typed
    assert saved.status_code == 302 and "/console/" in saved.headers["Location"]
    call = call_row("a1")
    ticket = db.session.get(Ticket, call.ticket_id)
    assert ticket.status == "answered_directly" and ticket.appeal_type == "consultation"
    assert ticket.citizen_phone == "13800138000" and ticket.category_id == calls.category.id
    assert ticket.channel == "phone" and ticket.created_by_id == calls.operator.id
    event = db.session.execute(select(TicketEvent).filter_by(ticket_id=ticket.id)).scalar_one()
    assert event.action == "answer_directly" and event.note == "已电话解答。"
    assert console_calls(operator) == ["a2"]
    # The same call again (a second tab): nothing more is registered, and the operator is told why.
    again = as_own(
        operator.post, "/console/calls/a1/answer", data={"category_id": calls.category.id, "title": "x", "answer": "y"}
    )
    assert again.status_code == 302
    assert ticket.tracking_no in as_own(operator.get, "/console/").get_data(as_text=True)  # the flashed warning
    assert (
        db.session.execute(select(func.count()).select_from(Ticket).filter_by(appeal_type="consultation")).scalar() == 1
    )


def test_the_form_starts_with_the_category_of_the_operators_last_direct_answer(app, calls):
    """The operator's own last direct answer to a consultation, else the centre's usual one this week, else
    the picker's first category."""
    first = Category(code="0101", name="最低生活保障", parent=Category(code="01", name="社会保障与就业"))
    housing = Category(code="0504", name="公租房", parent=calls.parent_category)
    db.session.add_all([first, housing])
    db.session.commit()

    def opened_with() -> str:
        return form_values(as_own(signed_in(app, "operator").get, "/console/calls/a1/answer").get_data(as_text=True))[
            "category_id"
        ]

    assert opened_with() == str(first.id)  # nothing answered yet: the first in the picker (社会保障与就业 first)

    def answered(category, by):
        register_ticket(
            appeal(calls, appeal_type="consultation", category_id=category.id), by, "answer_directly", note="已解答"
        )
        db.session.commit()

    answered(housing, calls.operator2)
    answered(housing, calls.operator2)
    assert opened_with() == str(housing.id)  # the centre's usual one
    answered(calls.category, calls.operator)
    assert opened_with() == str(calls.category.id)  # the operator's own last one wins
    answered(housing, calls.operator)
    assert opened_with() == str(housing.id)
    housing.active = False  # a retired category is never offered: the operator's last one still active
    db.session.commit()
    assert opened_with() == str(calls.category.id)


def test_clearing_the_stock_answer_gives_a_form_error_and_changes_nothing(app, calls):
    operator = signed_in(app, "operator")
    held = form_values(as_own(operator.get, "/console/calls/a1/answer").get_data(as_text=True))
    refused = as_own(operator.post, "/console/calls/a1/answer", data={**held, "answer": "   "})
    assert refused.status_code == 400
    assert "invalid-feedback" in refused.get_data(as_text=True).split('name="answer"', 1)[1][:600]
    assert call_row("a1").ticket_id is None
    assert db.session.scalar(select(func.count()).select_from(Ticket).filter_by(appeal_type="consultation")) == 0


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
    assert as_own(operator.post, "/console/calls/a1/close", data={"outcome": "dismissed"}).status_code == 400
    assert as_own(operator.post, "/console/calls/a2/close", data={"outcome": "ignored"}).status_code == 400
    assert call_row("a1").wrap_up is None and call_row("a2").wrap_up is None
    going_on = as_own(operator.get, "/console/calls/a4/answer")  # not ended: back to the console
    assert going_on.status_code == 302 and call_row("a4").ticket_id is None


def test_an_abandoned_call_called_back_and_answered_is_a_direct_answer(app, calls):
    operator = signed_in(app, "operator")
    held = form_values(as_own(operator.get, "/console/calls/a2/answer").get_data(as_text=True))
    assert as_own(operator.post, "/console/calls/a2/answer", data=held).status_code == 302
    call = call_row("a2")
    assert call.ticket_id is not None and call.wrap_up == "called_back" and call.wrapped_up_at is not None
    assert db.session.get(Ticket, call.ticket_id).status == "answered_directly"
    assert console_calls(operator) == ["a1"]


# --- calls abandoned in the queue: every operator's --------------------------------------------------------


def queue_calls(client) -> list[str]:
    page = as_own(client.get, "/console/").get_data(as_text=True)
    return re.findall(r'data-call="([^"]+)"', page.split('id="queue-abandoned"', 1)[1])


@pytest.fixture
def queue(app, calls):
    """Two calls that hung up in the queue (q1, q2: no extension), one that rang at an extension of nobody
    (q3), one answered at one (q4: not abandoned, so on no list)."""
    telephony = app.test_client()
    key = calls.cti_key
    for call_id, agent, answered in (
        ("q1", None, False),
        ("q2", None, False),
        ("q3", "8999", False),
        ("q4", "8999", True),
    ):
        ring = dict(event="ringing", call_id=call_id, caller="13700137000")
        assert post(telephony, key, **(ring | ({"agent": agent} if agent else {}))).status_code == 200
        if answered:
            assert (
                post(telephony, key, event="answered", call_id=call_id, caller="13700137000", agent=agent).status_code
                == 200
            )
        assert post(telephony, key, event="hangup", call_id=call_id).status_code == 200
    return calls


def test_calls_abandoned_in_the_queue_are_on_every_operators_console(app, queue):
    assert queue_calls(signed_in(app, "operator")) == ["q3", "q2", "q1"]
    assert queue_calls(signed_in(app, "operator2")) == ["q3", "q2", "q1"]
    assert "q1" not in console_calls(signed_in(app, "operator"))  # not on anyone's own list
    page = as_own(signed_in(app, "operator").get, "/console/").get_data(as_text=True)
    assert "未接来电（队列中放弃）" in page
    fragment = as_own(signed_in(app, "operator2").get, "/console/calls/").get_data(
        as_text=True
    )  # what the script loads
    assert 'data-call="q1"' in fragment and 'id="queue-abandoned"' in fragment
    dispatcher = signed_in(app, "dispatcher")
    assert as_own(dispatcher.post, "/console/calls/q1/close", data={"outcome": "called_back"}).status_code == 403


def test_a_queue_call_is_wrapped_up_once_and_the_second_operator_is_told_who_did(app, queue):
    first, second = signed_in(app, "operator2"), signed_in(app, "operator")
    assert as_own(first.post, "/console/calls/q1/close", data={"outcome": "called_back"}).status_code == 302
    late = as_own(second.post, "/console/calls/q1/close", data={"outcome": "dismissed"})
    assert late.status_code == 302
    assert "operator2 已于" in as_own(second.get, "/console/").get_data(as_text=True)
    late_answer = as_own(
        second.post,
        "/console/calls/q1/answer",
        data={"category_id": queue.category.id, "title": "电话咨询", "answer": "已电话解答。"},
    )
    assert late_answer.status_code == 302
    assert call_row("q1").wrap_up == "called_back" and call_row("q1").ticket_id is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(action="call.wrap_up")) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket).filter_by(appeal_type="consultation")) == 0
    assert queue_calls(first) == queue_calls(second) == ["q3", "q2"]
    # Called back and answered: a direct answer by whoever called back.
    held = form_values(as_own(second.get, "/console/calls/q2/answer").get_data(as_text=True))
    assert as_own(second.post, "/console/calls/q2/answer", data=held).status_code == 302
    ticket = db.session.get(Ticket, call_row("q2").ticket_id)
    assert ticket.created_by_id == queue.operator.id and call_row("q2").wrap_up == "called_back"
    late = as_own(first.get, "/console/calls/q2/answer")  # the other operator opens it too late
    assert late.status_code == 302
    assert ticket.tracking_no in as_own(first.get, "/console/").get_data(as_text=True)  # told who registered it


def test_two_operators_at_once_exactly_one_wraps_the_call_up(app, queue):
    """The race itself: the second operator read the call before the first's wrap-up was committed."""
    from hotline.core.errors import ValidationFailed
    from hotline.cti.models import Call
    from hotline.cti.services import call_to_wrap_up, close_abandoned_call

    stale = call_to_wrap_up("q3", queue.operator)  # read, not yet written
    with db.engine.begin() as other:  # meanwhile another operator's request commits
        other.execute(sa_update(Call).where(Call.call_id == "q3").values(wrap_up="dismissed", wrapped_up_at=utcnow()))
    with pytest.raises(ValidationFailed) as refused:
        close_abandoned_call(stale, queue.operator, "called_back")
    assert "nothing was changed" in str(refused.value.message) or "未做任何更改" in str(refused.value.message)
    db.session.rollback()
    assert call_row("q3").wrap_up == "dismissed"


def test_a_hangup_without_a_ticket_is_pushed_to_its_operators_list_only(app, calls):
    bus = app.extensions["hotline_cti_bus"]
    assert isinstance(bus, LocalBus)
    telephony = app.test_client()
    key = calls.cti_key
    with bus.subscribe(calls.operator.id) as mine, bus.subscribe(calls.operator2.id) as theirs:
        post(telephony, key, event="answered", call_id="h1", caller="13800138000", agent="8001")
        assert mine(1.0) == {"call_id": "h1"}  # the screen pop
        post(telephony, key, event="hangup", call_id="h1")
        assert mine(1.0) == {"call_id": "h1", "event": "wrap_up"}
        assert theirs(0.05) is None
        post(telephony, key, event="hangup", call_id="h1")  # a repeat tells nobody again
        assert mine(0.05) is None
        # A call registered during the talk has nothing to wrap up: no message at its hang-up.
        post(telephony, key, event="answered", call_id="h2", caller="13800138000", agent="8001")
        assert mine(1.0) == {"call_id": "h2"}
        call_row("h2").ticket_id = calls.ticket_in("pending_dispatch").id
        db.session.commit()
        post(telephony, key, event="hangup", call_id="h2")
        assert mine(0.05) is None
        # Abandoned in the queue: every operator's list.
        post(telephony, key, event="ringing", call_id="h3", caller="13800138000")
        post(telephony, key, event="hangup", call_id="h3")
        assert mine(1.0) == theirs(1.0) == {"call_id": "h3", "event": "wrap_up"}


def test_the_console_stream_names_a_call_to_wrap_up(app, calls):
    """The stream carries the hang-up as a ``wrap-up`` event, on which the console's script reloads its lists."""
    app.config["CTI_STREAM_SECONDS"] = 2
    operator, other, telephony = app.test_client(), app.test_client(), app.test_client()
    as_own(sign_in, operator, "operator")
    as_own(sign_in, other, "operator2")
    key = calls.cti_key
    received: dict[str, list[str]] = {"mine": [], "theirs": []}

    def listen(client, into):
        with app.app_context():
            response = client.get("/console/calls/stream", buffered=False)
            for chunk in response.response:
                into.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
            response.close()

    readers = [
        threading.Thread(target=listen, args=(operator, received["mine"])),
        threading.Thread(target=listen, args=(other, received["theirs"])),
    ]
    for reader in readers:
        reader.start()
    time.sleep(0.5)
    post(telephony, key, event="ringing", call_id="h4", caller="13800138000", agent="8001")
    post(telephony, key, event="hangup", call_id="h4")
    for reader in readers:
        reader.join(timeout=10)
    assert 'event: wrap-up\ndata: {"call_id": "h4"}' in "".join(received["mine"])
    assert "h4" not in "".join(received["theirs"])
