"""Online interviews and press conferences (issue 26.5): scheduling, questions (moderated, scrubbed), the live
JSON, ending (tickets for the unit, once), and who sees which session. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.core.clock import to_local, utcnow
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.extensions import db
from hotline.interviews import services
from hotline.interviews.models import InterviewQuestion, InterviewSession
from hotline.tickets.models import Ticket
from tests.factories import PASSWORD

PROBE = "我叫王小明，电话13912340001，身份证110101199003071234，住人民路88号3栋201室，想问老旧小区加装电梯怎么申请？"


def _schedule(world, unit=None, actor=None, **overrides):
    start = utcnow() + timedelta(hours=1)
    fields = dict(
        kind="interview",
        topic="老旧小区改造与加装电梯",
        unit_id=(unit or world.department).id,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        guests="东湖区住房和城乡建设局局长 李明",
    )
    fields.update(overrides)
    return services.schedule_session(services.ScheduleInput(**fields), actor or world.supervisor)


def _sign_in(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def _forget_user():
    from flask import g

    g.pop("_login_user", None)


# --- scheduling ---------------------------------------------------------------------------------------------


def test_a_supervisor_schedules_a_session_for_a_unit(world):
    session = _schedule(world)
    db.session.commit()
    assert session.status == "scheduled" and session.unit_id == world.department.id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"topic": "  "}, "topic"),
        ({"guests": ""}, "guests"),
        ({"kind": "party"}, "kind"),
        ({"unit_id": None}, "unit_id"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": utcnow() - timedelta(hours=1)}, "starts_at"),
        ({"ends_at": utcnow() + timedelta(minutes=30)}, "ends_at"),  # before the start (an hour from now)
        ({"ends_at": utcnow() + timedelta(hours=20)}, "ends_at"),  # longer than MAX_HOURS
    ],
)
def test_scheduling_refuses_bad_input_naming_the_field(world, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, **overrides)
    assert field in refused.value.fields
    db.session.rollback()
    assert db.session.execute(db.select(InterviewSession)).first() is None


def test_a_session_needs_a_unit_that_takes_tickets(world):
    with pytest.raises(ValidationFailed) as refused:
        _schedule(world, unit=world.hotline)
    assert "unit_id" in refused.value.fields


def test_handlers_operators_and_dispatchers_do_not_schedule(world):
    for who in (world.district_handler, world.operator, world.dispatcher):
        with pytest.raises(PermissionDenied):
            _schedule(world, actor=who)


def test_the_schedule_form_shows_its_errors_and_saves_nothing(client, world):
    _sign_in(client, "supervisor")
    response = client.post(
        "/interviews/new",
        data={
            "kind": "interview",
            "topic": "供暖",
            "unit_id": world.department.id,
            "starts_at": "2020-01-01T10:00",
            "ends_at": "2020-01-01T09:00",
            "guests": "局长",
        },
    )
    assert response.status_code == 400
    assert db.session.execute(db.select(InterviewSession)).first() is None
    start = to_local(utcnow() + timedelta(days=1))
    response = client.post(
        "/interviews/new",
        data={
            "kind": "press",
            "topic": "供暖季新闻发布会",
            "unit_id": world.department.id,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "guests": "局长",
        },
    )
    assert response.status_code == 302
    session = db.session.execute(db.select(InterviewSession)).scalar_one()
    assert session.kind == "press" and session.topic == "供暖季新闻发布会"
    assert abs(
        to_local(session.starts_at).replace(tzinfo=None) - start.replace(tzinfo=None, second=0, microsecond=0)
    ) < timedelta(minutes=1)


# --- questions: submitted, moderated, scrubbed ---------------------------------------------------------------


def test_a_citizen_question_is_shown_only_after_approval_and_scrubbed(client, world):
    session = _schedule(world)
    db.session.commit()
    page = f"/portal/interviews/{session.id}"
    response = client.post(page, data={"text": PROBE, "name": "王小明", "phone": "13912340001"})
    assert response.status_code == 302
    question = db.session.execute(db.select(InterviewQuestion)).scalar_one()
    assert question.status == "pending" and question.asker_phone == "13912340001"
    assert "怎么申请" not in client.get(page).get_data(as_text=True)
    assert client.get(f"{page}/live.json").get_json()["questions"] == []

    services.moderate_question(question, world.district_handler, "approve")
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    state = client.get(f"{page}/live.json").get_json()
    shown = state["questions"][0]["text"]
    assert "加装电梯怎么申请" in shown and "加装电梯怎么申请" in html
    for secret in ("王小明", "13912340001", "110101199003071234", "88号", "201室"):
        assert secret not in shown and secret not in html, secret
        assert secret not in str(state)


def test_a_rejected_question_never_appears(client, world):
    session = _schedule(world)
    question = services.submit_question(session, "这个问题与主题无关的广告")
    services.moderate_question(question, world.supervisor, "reject")
    db.session.commit()
    assert client.get(f"/portal/interviews/{session.id}/live.json").get_json()["questions"] == []
    assert "广告" not in client.get(f"/portal/interviews/{session.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"text": ""}, "text"), ({"text": "问" * 501}, "text"), ({"text": "问题", "phone": "12345"}, "phone")],
)
def test_a_bad_question_is_refused_on_its_field(client, world, data, field):
    session = _schedule(world)
    db.session.commit()
    response = client.post(f"/portal/interviews/{session.id}", data=data)
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    assert db.session.execute(db.select(InterviewQuestion)).first() is None


def test_questions_are_closed_once_the_session_ends(client, world):
    session = _schedule(world)
    services.start_session(session, world.supervisor)
    services.end_session(session, world.supervisor)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.submit_question(session, "还能提问吗")
    response = client.post(f"/portal/interviews/{session.id}", data={"text": "还能提问吗"})
    assert response.status_code == 400
    assert db.session.execute(db.select(InterviewQuestion)).first() is None


def test_the_question_form_is_rate_limited_per_address(app, client, world):
    session = _schedule(world)
    db.session.commit()
    codes = [client.post(f"/portal/interviews/{session.id}", data={"text": f"问题{i}"}).status_code for i in range(6)]
    assert codes[:5] == [302] * 5 and codes[5] == 429


# --- live answers -------------------------------------------------------------------------------------------


def test_live_json_shows_approved_and_answered_questions_only(client, world):
    session = _schedule(world)
    pending = services.submit_question(session, "待审核的问题")
    approved = services.submit_question(session, "已通过的问题")
    answered = services.submit_question(session, "会答复的问题", name="张伟", phone="13800138000")
    rejected = services.submit_question(session, "被拒绝的问题")
    for q, decision in ((approved, "approve"), (answered, "approve"), (rejected, "reject")):
        services.moderate_question(q, world.district_handler, decision)
    with pytest.raises(InvalidTransition):  # answers are published once the session is live
        services.answer_question(answered, world.district_handler, "答复")
    services.start_session(session, world.district_handler)
    services.answer_question(answered, world.district_handler, "张伟您好，今年起可申请补贴，电话13800138000已登记。")
    db.session.commit()
    state = client.get(f"/portal/interviews/{session.id}/live.json").get_json()
    assert state["status"] == "live" and state["answered"] == 1
    texts = [q["text"] for q in state["questions"]]
    assert texts == ["会答复的问题", "已通过的问题"]  # answered first, in the order answered
    first = state["questions"][0]
    assert "可申请补贴" in first["answer"] and "13800138000" not in first["answer"] and "张伟" not in first["answer"]
    assert state["questions"][1]["answer"] is None
    assert pending.id not in [q["id"] for q in state["questions"]]


def test_answering_a_pending_question_approves_it_scrubbed(world):
    session = _schedule(world)
    question = services.submit_question(session, "我的电话是13912340001，供暖什么时候开始？")
    services.start_session(session, world.supervisor)
    services.answer_question(question, world.supervisor, "11月15日开始供暖。")
    assert question.status == "answered" and "13912340001" not in question.public_text


def test_the_staff_page_publishes_an_answer_the_portal_then_shows(client, world):
    session = _schedule(world)
    question = services.submit_question(session, "公租房轮候多久？")
    services.moderate_question(question, world.supervisor, "approve")
    services.start_session(session, world.supervisor)
    db.session.commit()
    _sign_in(client, "district_handler")
    response = client.post(
        f"/interviews/{session.id}/questions/{question.id}/answer", data={"answer": "目前约六个月。"}
    )
    assert response.status_code == 302
    response = client.post(f"/interviews/{session.id}/questions/{question.id}/answer", data={"answer": " "})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(InterviewQuestion, question.id).answer == "目前约六个月。"
    anonymous = client.application.test_client()
    assert "目前约六个月。" in anonymous.get(f"/portal/interviews/{session.id}").get_data(as_text=True)


# --- ending: the transcript and the tickets -----------------------------------------------------------------


def _ended_session(world):
    session = _schedule(world)
    answered = services.submit_question(session, "加装电梯补贴多少？")
    with_phone = services.submit_question(session, "我家楼道灯坏了谁来修？", name="张伟", phone="13800138000")
    without_phone = services.submit_question(session, "社区养老食堂在哪里？")
    pending = services.submit_question(session, "没人审核的问题", phone="13800138001")
    rejected = services.submit_question(session, "被拒绝的问题", phone="13800138002")
    for q in (answered, with_phone, without_phone):
        services.moderate_question(q, world.supervisor, "approve")
    services.moderate_question(rejected, world.supervisor, "reject")
    services.start_session(session, world.supervisor)
    services.answer_question(answered, world.department_handler, "每台最高补贴十万元。")
    tickets = services.end_session(session, world.department_handler)
    db.session.commit()
    return session, tickets, with_phone, without_phone, pending


def test_ending_turns_approved_unanswered_questions_into_tickets_for_the_unit(world):
    session, tickets, with_phone, without_phone, pending = _ended_session(world)
    assert session.status == "ended" and session.ended_by_id == world.department_handler.id
    assert len(tickets) == 1
    ticket = tickets[0]
    assert with_phone.ticket_id == ticket.id
    assert ticket.status == "dispatched" and ticket.lead_unit_id == world.department.id
    assert ticket.citizen_phone == "13800138000" and ticket.citizen_name == "张伟"
    assert ticket.body == "我家楼道灯坏了谁来修？" and ticket.district_id == world.district.id
    assert [e.action for e in ticket.events] == ["register", "dispatch"]
    assert all(e.actor_kind == "system" for e in ticket.events)
    assert "老旧小区改造与加装电梯" in ticket.events[0].note
    # no phone: no ticket, and the page says why
    assert without_phone.ticket_id is None and without_phone.no_ticket_reason == "no_phone"
    assert pending.ticket_id is None and pending.no_ticket_reason is None


def test_ending_twice_makes_no_second_ticket(client, world):
    session, tickets, *_ = _ended_session(world)
    assert services.end_session(session, world.supervisor) == []
    db.session.commit()
    _sign_in(client, "supervisor")
    assert client.post(f"/interviews/{session.id}/end").status_code == 302
    assert db.session.execute(db.select(db.func.count()).select_from(Ticket)).scalar() == 1


def test_the_unit_sees_the_ticket_in_its_workspace(client, world):
    _session, tickets, *_ = _ended_session(world)
    _sign_in(client, "department_handler")
    assert tickets[0].tracking_no in client.get("/workspace").get_data(as_text=True)


def test_the_transcript_is_public_and_the_summary_is_published(client, world):
    session, _tickets, with_phone, without_phone, _pending = _ended_session(world)
    page = f"/portal/interviews/{session.id}"
    html = client.get(page).get_data(as_text=True)
    assert "每台最高补贴十万元。" in html and "我家楼道灯坏了谁来修？" in html
    assert "没人审核的问题" not in html and "被拒绝的问题" not in html and "13800138000" not in html
    assert 'name="text"' not in html  # no question form after the end
    # a question without a phone is answered in the transcript after the end; one with a ticket is not
    services.answer_question(without_phone, world.department_handler, "请到社区服务中心咨询。")
    with pytest.raises(InvalidTransition):
        services.answer_question(with_phone, world.department_handler, "已转工单")
    services.publish_transcript(session, world.department_handler, "本次访谈共回答两个问题。")
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    assert session.status == "published"
    assert "本次访谈共回答两个问题。" in html, html[html.find("<main") :]
    assert "请到社区服务中心咨询。" in html


def test_only_a_live_session_ends_and_only_an_ended_one_is_published(world):
    session = _schedule(world)
    with pytest.raises(InvalidTransition):
        services.end_session(session, world.supervisor)
    with pytest.raises(InvalidTransition):
        services.publish_transcript(session, world.supervisor, "")
    services.start_session(session, world.supervisor)
    with pytest.raises(InvalidTransition):
        services.start_session(session, world.supervisor)


# --- scope ----------------------------------------------------------------------------------------------------


def test_units_see_and_manage_only_their_own_sessions(client, world):
    ours = _schedule(world, topic="东湖区的访谈")
    theirs = _schedule(world, unit=world.other_department, topic="西江区的访谈")
    question = services.submit_question(theirs, "西江区的问题")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.moderate_question(question, world.district_handler, "approve")
    with pytest.raises(PermissionDenied):
        services.start_session(theirs, world.district_handler)
    assert [s.id for s in services.staff_sessions(world.district_handler)] == [ours.id]
    assert [s.id for s in services.staff_sessions(world.outsider)] == [theirs.id]
    assert {s.id for s in services.staff_sessions(world.supervisor)} == {ours.id, theirs.id}
    _sign_in(client, "district_handler")
    listing = client.get("/interviews/").get_data(as_text=True)
    assert "东湖区的访谈" in listing and "西江区的访谈" not in listing
    assert client.get(f"/interviews/{theirs.id}").status_code == 404
    assert client.post(f"/interviews/{theirs.id}/start").status_code == 404
    assert client.post(f"/interviews/{theirs.id}/questions/{question.id}/approve").status_code == 404
    assert client.get(f"/interviews/{ours.id}").status_code == 200
    _forget_user()
    db.session.expire_all()
    assert db.session.get(InterviewSession, theirs.id).status == "scheduled"
    assert db.session.get(InterviewQuestion, question.id).status == "pending"


def test_a_question_of_another_session_answers_404(client, world):
    ours = _schedule(world)
    other = _schedule(world)
    question = services.submit_question(other, "别的场次的问题")
    db.session.commit()
    _sign_in(client, "supervisor")
    assert client.post(f"/interviews/{ours.id}/questions/{question.id}/approve").status_code == 404


def test_the_staff_page_shows_the_askers_phone_masked_to_units(client, world):
    session = _schedule(world)
    services.submit_question(session, "问题一", name="张伟", phone="13800138000")
    db.session.commit()
    _sign_in(client, "district_handler")
    html = client.get(f"/interviews/{session.id}").get_data(as_text=True)
    assert "138****8000" in html and "13800138000" not in html
    assert "13800138000" not in client.application.test_client().get(f"/portal/interviews/{session.id}").get_data(
        as_text=True
    )
