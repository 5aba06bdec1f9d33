"""并单 leaves no caller stranded (issue 21.1): the merge is confirmed naming both tickets and the direction; every
caller of a merged appeal follows the master on /track with their own number and phone, hears of its answer,
is in the callback list and rates it on their own ticket (docs/architecture.md, "Merged callers")."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.core.clock import frozen_at, utcnow
from hotline.core.errors import InvalidTransition
from hotline.extensions import db, limiter
from hotline.notify.models import Notification
from hotline.tickets.models import Ticket, TicketEvent
from hotline.tickets.services import CitizenActor, apply_transition, merged_callback_open
from tests.factories import PASSWORD, PHONE

OTHER_PHONE = "13700001111"


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


@pytest.fixture
def merged(world):
    """An in-progress master (caller PHONE) with a duplicate from another caller merged into it."""
    limiter.enabled = False
    master = world.ticket_in("in_progress")
    duplicate = world.ticket_in(
        "pending_dispatch",
        citizen_phone=OTHER_PHONE,
        citizen_name="李娜",
        body="我家楼下的物业也乱收费，和邻居反映的是同一件事。",
    )
    apply_transition(duplicate, "merge", world.dispatcher, master=master)
    db.session.commit()
    world.master, world.duplicate = master, duplicate
    yield world
    limiter.enabled = True


def _answer(w):
    apply_transition(w.master, "reply", w.district_handler, body="已约谈物业公司，收费恢复原标准。")
    apply_transition(w.master, "approve_reply", w.dispatcher)
    db.session.commit()


def _track(client, number, phone):
    return client.post("/track", data={"tracking_no": number, "phone": phone})


def test_the_merge_forms_ask_for_confirmation_naming_both_tickets_and_the_direction(client, world):
    master = world.ticket_in("in_progress")
    duplicate = world.ticket_in("pending_dispatch")
    login(client, "dispatcher")
    page = client.get(f"/tickets/{duplicate.tracking_no}").get_data(as_text=True)
    form = page[page.index('data-testid="merge-form"') :][:600]
    # The typed-in master is filled in by confirm-submit.js: {master} is the form's field.
    assert f'data-confirm="确认将工单 {duplicate.tracking_no} 并入工单 {{master}}' in form
    if 'data-testid="merge-into"' in page:  # the possible-duplicates list names the target itself
        assert f"将工单 {duplicate.tracking_no} 并入工单 {master.tracking_no}" in page


def test_a_merged_caller_follows_the_master_with_their_own_number_and_phone(client, merged):
    w = merged
    response = _track(client, w.duplicate.tracking_no, OTHER_PHONE)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/track/{w.duplicate.tracking_no}")
    page = client.get(f"/track/{w.duplicate.tracking_no}").get_data(as_text=True)
    assert 'data-testid="merged-notice"' in page and w.master.tracking_no in page
    assert "和邻居反映的是同一件事" in page  # their own text…
    assert w.master.body not in page and "张伟" not in page  # …never the master caller's
    _answer(w)
    page = client.get(f"/track/{w.duplicate.tracking_no}").get_data(as_text=True)
    assert "收费恢复原标准" in page and "Rate the answer" not in page and "评价答复" in page


def test_the_masters_number_with_a_merged_callers_phone_opens_their_own_appeal(client, merged):
    w = merged
    response = _track(client, w.master.tracking_no, OTHER_PHONE)
    assert response.headers["Location"].endswith(f"/track/{w.duplicate.tracking_no}")
    assert _track(client, w.master.tracking_no, "13600002222").status_code == 400  # no one's phone: refused
    # The session holds the caller's own number only, never the master's.
    assert client.get(f"/track/{w.master.tracking_no}").status_code == 302


def test_every_caller_hears_of_the_released_answer_under_their_own_number(merged):
    w = merged
    same_phone = w.ticket_in("pending_dispatch")  # the master's caller called twice: one SMS for both
    apply_transition(same_phone, "merge", w.dispatcher, master=w.master)
    db.session.commit()
    _answer(w)
    released = db.session.execute(select(Notification).filter_by(template="reply_released")).scalars().all()
    assert sorted((n.recipient, n.payload["tracking_no"]) for n in released) == sorted(
        [(PHONE, w.master.tracking_no), (OTHER_PHONE, w.duplicate.tracking_no)]
    )


def test_a_merged_caller_rates_on_their_own_ticket_and_the_master_keeps_its_own_callback(client, merged):
    w = merged
    _answer(w)
    _track(client, w.duplicate.tracking_no, OTHER_PHONE)
    response = client.post(
        f"/track/{w.duplicate.tracking_no}", data={"satisfaction": "unsatisfied", "comment": "收费还没退"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    duplicate, master = db.session.get(Ticket, w.duplicate.id), db.session.get(Ticket, w.master.id)
    assert (duplicate.status, duplicate.satisfaction, duplicate.satisfaction_comment) == (
        "merged",
        "unsatisfied",
        "收费还没退",
    )
    assert master.status == "pending_callback" and master.satisfaction is None and master.redo_count == 0
    noted = db.session.execute(select(TicketEvent).filter_by(ticket_id=master.id, action="merged_rated")).scalar_one()
    assert noted.data == {"ticket": duplicate.tracking_no, "satisfaction": "unsatisfied"} and not noted.public
    # Once per released answer.
    assert not merged_callback_open(duplicate)
    with pytest.raises(InvalidTransition):
        apply_transition(duplicate, "rate_merged", CitizenActor(OTHER_PHONE), satisfaction="satisfied")
    db.session.rollback()
    # The master's own caller still decides the master.
    apply_transition(master, "rate_satisfied", CitizenActor(PHONE), satisfaction="satisfied")
    db.session.commit()
    assert master.status == "closed"


def test_a_merged_caller_may_rate_after_the_master_closed_within_the_callback_window(merged):
    w = merged
    _answer(w)
    apply_transition(w.master, "rate_satisfied", CitizenActor(PHONE), satisfaction="satisfied")
    db.session.commit()
    assert merged_callback_open(w.duplicate)
    with frozen_at(utcnow() + timedelta(days=30)):  # past SLA_CALLBACK_WORKING_DAYS
        assert not merged_callback_open(w.duplicate)
        with pytest.raises(InvalidTransition):
            apply_transition(w.duplicate, "rate_merged", CitizenActor(OTHER_PHONE), satisfaction="satisfied")
    db.session.rollback()
    apply_transition(w.duplicate, "rate_merged", CitizenActor(OTHER_PHONE), satisfaction="basically")
    db.session.commit()
    assert w.duplicate.satisfaction == "basically"


def test_no_rating_before_the_master_is_answered_or_by_another_phone(merged):
    w = merged
    with pytest.raises(InvalidTransition):
        apply_transition(w.duplicate, "rate_merged", CitizenActor(OTHER_PHONE), satisfaction="satisfied")
    db.session.rollback()
    _answer(w)
    from hotline.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        apply_transition(w.duplicate, "rate_merged", CitizenActor(PHONE), satisfaction="satisfied")
    db.session.rollback()


def test_merged_callers_are_in_the_callback_list_until_they_rated(client, merged):
    w = merged
    login(client, "operator")
    assert w.duplicate.tracking_no not in client.get("/?status=pending_callback").get_data(as_text=True)
    _answer(w)
    page = client.get("/?status=pending_callback").get_data(as_text=True)
    assert w.master.tracking_no in page and w.duplicate.tracking_no in page
    assert 'data-testid="merged-callbacks"' in page
    # The operator's callback of that caller, on the caller's own ticket.
    detail = client.get(f"/tickets/{w.duplicate.tracking_no}").get_data(as_text=True)
    assert f"/tickets/{w.duplicate.tracking_no}/actions/rate_merged" in detail
    assert "收费恢复原标准" in detail[detail.index('data-testid="merged-answer"') :]  # what they are asked about
    response = client.post(
        f"/tickets/{w.duplicate.tracking_no}/actions/rate_merged",
        data={"satisfaction": "satisfied", "version": w.duplicate.version},
    )
    assert response.status_code == 302
    page = client.get("/?status=pending_callback").get_data(as_text=True)
    assert w.duplicate.tracking_no not in page and w.master.tracking_no in page
    assert db.session.get(Ticket, w.duplicate.id).satisfaction == "satisfied"


def test_the_api_rate_action_records_a_merged_callers_rating(client, merged):
    from tests.integration.api_helpers import token_for

    w = merged
    _answer(w)
    response = client.post(
        f"/api/v1/tickets/{w.duplicate.tracking_no}/actions/rate",
        json={"satisfaction": "basically"},
        headers=token_for(w.operator),
    )
    assert response.status_code == 200, response.get_json()
    assert db.session.get(Ticket, w.duplicate.id).satisfaction == "basically"


def test_a_merged_callers_rating_is_not_counted_in_the_units_kpis(merged):
    """One released answer, one callback: the master's (hotline/dashboard/kpis.py)."""
    from hotline.core.clock import to_local
    from hotline.dashboard.services import rollup_day

    w = merged
    _answer(w)
    apply_transition(w.duplicate, "rate_merged", CitizenActor(OTHER_PHONE), satisfaction="unsatisfied")
    apply_transition(w.master, "rate_satisfied", CitizenActor(PHONE), satisfaction="satisfied")
    db.session.commit()
    from hotline.dashboard.models import KpiUnitDay

    rollup_day(to_local(utcnow()).date())
    rows = db.session.execute(select(KpiUnitDay).filter_by(unit_id=w.district.id)).scalars().all()
    assert sum(r.rated_satisfied for r in rows) == 1 and sum(r.rated_unsatisfied for r in rows) == 0
    assert sum(r.redone for r in rows) == 0


def test_the_api_track_gives_a_merged_caller_the_masters_progress_and_answer(client, merged):
    w = merged
    _answer(w)
    for number in (w.duplicate.tracking_no, w.master.tracking_no):
        data = client.get(f"/api/v1/track?tracking_no={number}&phone={OTHER_PHONE}").get_json()
        assert data["tracking_no"] == w.duplicate.tracking_no and data["merged_into"] == w.master.tracking_no
        assert data["master_status"] == "pending_callback" and data["awaiting_rating"] is True
        assert "收费恢复原标准" in data["answer"]["body"]
        assert "approve_reply" in {e["action"] for e in data["timeline"]}
        assert "张伟" not in str(data) and w.master.body not in str(data)


def test_the_merge_sms_tells_the_caller_how_to_follow_the_master(merged):
    from hotline.notify.templates import render

    w = merged
    note = db.session.execute(select(Notification).filter_by(template="ticket_merged")).scalar_one()
    assert note.recipient == OTHER_PHONE
    body = render(note.template, note.payload)[1]
    assert w.master.tracking_no in body and f"请用 {w.duplicate.tracking_no} 和您的手机号码查询" in body
