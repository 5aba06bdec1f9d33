"""社会监督评议 (issue 26.2): the admin's questionnaire lifecycle, who may rate which unit (citizen accounts,
evaluators, a ticket's link), one response per respondent and unit, results with n split by respondent, and the
minimum-sample rule on the public statistics page and the public JSON."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role, User
from hotline.accounts.services import create_user
from hotline.core.clock import utcnow
from hotline.core.errors import Conflict, ValidationFailed
from hotline.dashboard.services import rollup_today
from hotline.evaluation import services
from hotline.evaluation.models import EvaluationResponse, Questionnaire
from hotline.extensions import db
from hotline.notify.models import Notification
from tests.factories import PASSWORD


def login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def make_evaluator(w, name="renda"):
    user = create_user(name, PASSWORD, "人大代表 孙丽", org_unit=w.city, roles=[(Role.EVALUATOR, w.city)])
    db.session.commit()
    return user


def open_questionnaire(w, year=None, kinds=("choice", "score")) -> Questionnaire:
    q = services.create_questionnaire(w.admin, year or utcnow().year, "年度社会监督评议")
    for i, kind in enumerate(kinds):
        services.add_question(w.admin, q, f"问题{i + 1}", kind)
    services.change_status(w.admin, q, "open")
    db.session.commit()
    return q


def answers(q, choice=3, score=5):
    return {question.id: (choice if question.kind == "choice" else score) for question in q.questions}


def form_data(q, choice=3, score=5):
    return {f"q{k}": str(v) for k, v in answers(q, choice, score).items()}


# --- the questionnaire's lifecycle ----------------------------------------------------------------------------


def test_admin_defines_reorders_opens_closes_and_publishes_a_questionnaire(client, world):
    login(client, "admin")
    response = client.post("/evaluation/admin", data={"year": "2026", "title": "2026年度评议"})
    assert response.status_code == 302
    q = db.session.execute(select(Questionnaire)).scalar_one()
    assert q.status == "draft"
    # opening without questions is refused with a message, nothing changes
    page = client.post(f"/evaluation/admin/{q.id}/open", follow_redirects=True).get_data(as_text=True)
    assert "Add at least one question" in page or "至少添加一道题目" in page
    db.session.refresh(q)
    assert q.status == "draft"
    for text, kind in (("办事效率", "score"), ("总体满意度", "choice"), ("多余的题", "choice")):
        assert client.post(f"/evaluation/admin/{q.id}", data={"text": text, "kind": kind}).status_code == 302
    db.session.expire_all()
    first, second, third = q.questions
    client.post(f"/evaluation/admin/{q.id}/questions/{second.id}/up")
    client.post(f"/evaluation/admin/{q.id}/questions/{third.id}/remove")
    db.session.expire_all()
    assert [x.text for x in q.questions] == ["总体满意度", "办事效率"]
    assert client.post(f"/evaluation/admin/{q.id}/open").status_code == 302
    db.session.expire_all()
    assert q.status == "open"
    # once open, the questions are fixed
    client.post(f"/evaluation/admin/{q.id}", data={"text": "迟到的题", "kind": "score"})
    client.post(f"/evaluation/admin/{q.id}/questions/{first.id}/remove")
    db.session.expire_all()
    assert [x.text for x in q.questions] == ["总体满意度", "办事效率"]
    # publishing needs closing first
    client.post(f"/evaluation/admin/{q.id}/publish")
    db.session.expire_all()
    assert q.status == "open"
    client.post(f"/evaluation/admin/{q.id}/close")
    client.post(f"/evaluation/admin/{q.id}/publish")
    db.session.expire_all()
    assert q.status == "published" and q.published_at is not None
    assert "2026年度评议" in client.get("/public/stats").get_data(as_text=True)


def test_bad_questionnaire_input_is_refused_and_changes_nothing(client, world):
    login(client, "admin")
    page = client.post("/evaluation/admin", data={"year": "1900", "title": ""}).get_data(as_text=True)
    assert "is-invalid" in page
    assert db.session.execute(select(func.count(Questionnaire.id))).scalar() == 0
    with pytest.raises(ValidationFailed):
        services.create_questionnaire(world.admin, 2026, "x", utcnow().date(), utcnow().date() - timedelta(days=1))


# --- who rates which unit -------------------------------------------------------------------------------------


def test_evaluators_rate_any_unit_and_citizens_the_units_of_their_appeals(client, world):
    w = world
    mine = w.ticket_in("closed")
    mine.citizen_user_id = w.citizen_user.id
    make_evaluator(w)
    q = open_questionnaire(w)

    login(client, "renda")
    page = client.get("/evaluation/").get_data(as_text=True)
    assert "西江区" in page and "东湖区" in page  # any unit
    assert client.get(f"/evaluation/{q.id}/units/{w.other_district.id}").status_code == 200
    response = client.post(f"/evaluation/{q.id}/units/{w.other_district.id}", data=form_data(q))
    assert response.status_code == 302
    assert client.get("/evaluation/admin").status_code == 403  # not an admin

    login(client, "citizen")
    page = client.get("/evaluation/").get_data(as_text=True)
    assert "东湖区" in page and "西江区" not in page
    assert client.get(f"/evaluation/{q.id}/units/{w.other_district.id}").status_code == 404
    assert client.post(f"/evaluation/{q.id}/units/{w.district.id}", data=form_data(q, choice=2)).status_code == 302

    login(client, "district_handler")
    assert client.get("/evaluation/").status_code == 403

    rows = db.session.execute(select(EvaluationResponse).order_by(EvaluationResponse.id)).scalars().all()
    assert [(r.unit_id, r.respondent_kind) for r in rows] == [
        (w.other_district.id, "evaluator"),
        (w.district.id, "citizen"),
    ]


def test_an_unanswered_question_is_refused_and_records_nothing(client, world):
    make_evaluator(world)
    q = open_questionnaire(world)
    login(client, "renda")
    data = form_data(q)
    data.pop(next(iter(data)))
    page = client.post(f"/evaluation/{q.id}/units/{world.district.id}", data=data)
    assert page.status_code == 200
    data[next(iter(form_data(q)))] = "99"  # not one of the values
    assert client.post(f"/evaluation/{q.id}/units/{world.district.id}", data=data).status_code == 200
    assert db.session.execute(select(func.count(EvaluationResponse.id))).scalar() == 0


def test_a_second_response_about_the_same_unit_is_refused(client, world):
    evaluator = make_evaluator(world)
    q = open_questionnaire(world)
    respondent = services.respondent_for(evaluator)
    services.submit_response(q, world.district, respondent, answers(q))
    db.session.commit()
    with pytest.raises(Conflict):
        services.submit_response(q, world.district, respondent, answers(q, choice=1))
    db.session.rollback()
    login(client, "renda")
    page = client.post(
        f"/evaluation/{q.id}/units/{world.district.id}", data=form_data(q, choice=1), follow_redirects=True
    ).get_data(as_text=True)
    assert "already evaluated" in page or "已在本次问卷中评议过" in page
    values = db.session.execute(select(EvaluationResponse)).scalars().all()
    assert len(values) == 1 and {a.value for a in values[0].answers} == {3, 5}  # the first stays


def test_the_unique_constraint_holds_even_without_the_check(world):
    evaluator = make_evaluator(world)
    q = open_questionnaire(world)
    services.submit_response(q, world.district, services.respondent_for(evaluator), answers(q))
    db.session.commit()
    db.session.add(
        EvaluationResponse(
            questionnaire_id=q.id, unit_id=world.district.id, respondent_kind="evaluator", user_id=evaluator.id
        )
    )
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_answers_are_taken_only_while_open_and_between_its_days(world):
    evaluator = make_evaluator(world)
    q = open_questionnaire(world)
    q.closes_on = utcnow().date() - timedelta(days=2)
    with pytest.raises(ValidationFailed):
        services.submit_response(q, world.district, services.respondent_for(evaluator), answers(q))
    q.closes_on = None
    services.change_status(world.admin, q, "close")
    with pytest.raises(ValidationFailed):
        services.submit_response(q, world.district, services.respondent_for(evaluator), answers(q))


# --- the ticket's link ----------------------------------------------------------------------------------------


def test_the_link_rates_the_tickets_lead_unit_once_without_signing_in(client, world):
    ticket = world.ticket_in("closed")
    q = open_questionnaire(world)
    token = services.evaluation_link_token(ticket.id, q.id)
    page = client.get(f"/e/{token}")
    assert page.status_code == 200 and "东湖区" in page.get_data(as_text=True)
    assert db.session.execute(select(func.count(EvaluationResponse.id))).scalar() == 0  # a GET rates nothing
    assert client.post(f"/e/{token}", data=form_data(q, choice=2)).status_code == 200
    response = db.session.execute(select(EvaluationResponse)).scalar_one()
    assert (response.unit_id, response.ticket_id, response.user_id) == (world.district.id, ticket.id, None)
    assert response.respondent_kind == "citizen"
    again = client.get(f"/e/{token}")
    assert again.status_code == 409
    assert client.post(f"/e/{token}", data=form_data(q)).status_code == 409
    assert db.session.execute(select(func.count(EvaluationResponse.id))).scalar() == 1


def test_forged_mangled_and_expired_links_open_nothing(client, world):
    ticket = world.ticket_in("closed")
    q = open_questionnaire(world)
    token = services.evaluation_link_token(ticket.id, q.id)
    message, signature = token.rsplit(".", 1)
    other = services.evaluation_link_token(ticket.id + 1, q.id)
    forged = other.rsplit(".", 1)[0] + "." + signature
    for bad in (forged, message + ".AAAAAAAAAAAA", "1.1.1", "x" * 90, "zz.zz.zz." + signature):
        assert client.get(f"/e/{bad}").status_code == 404, bad
    assert services.parse_evaluation_link(token) is not None
    assert services.parse_evaluation_link(token, now=utcnow() + timedelta(days=62)) is None
    old = services.evaluation_link_token(ticket.id, q.id, now=utcnow() - timedelta(days=90))
    assert client.get(f"/e/{old}").status_code == 404
    # the rating link of the release SMS is signed for another purpose: not an evaluation link
    from hotline.sms.services import rate_link_token

    assert client.get(f"/e/{rate_link_token(ticket.id, q.id)}").status_code == 404


def test_the_closed_appeals_tracking_page_and_the_sms_invitation_carry_the_link(client, world):
    ticket = world.ticket_in("closed")
    q = open_questionnaire(world)
    login(client, "admin")
    response = client.post(f"/evaluation/admin/{q.id}/invite", follow_redirects=True)
    assert response.status_code == 200
    note = db.session.execute(
        select(Notification).where(Notification.template == services.INVITE_TEMPLATE)
    ).scalar_one()
    assert note.ticket_id == ticket.id and note.channel == "sms"
    url = note.payload["evaluation_url"]
    token = url.rsplit("/e/", 1)[1]
    assert services.parse_evaluation_link(token).ticket_id == ticket.id
    client.post(f"/evaluation/admin/{q.id}/invite")  # again: nobody twice
    assert (
        db.session.execute(
            select(func.count(Notification.id)).where(Notification.template == services.INVITE_TEMPLATE)
        ).scalar()
        == 1
    )
    assert services.ticket_evaluation_path(ticket).startswith("/e/")


# --- results and the minimum sample ---------------------------------------------------------------------------


def _respond(w, q, unit, citizens=(), evaluators=()):
    for choice in citizens:
        ticket = w.ticket_in("closed")
        services.submit_response(
            q,
            unit,
            services.Respondent(services.RespondentKind.CITIZEN, ticket_id=ticket.id),
            answers(q, choice=choice, score=choice + 2),
        )
    for i, choice in enumerate(evaluators):
        user = make_evaluator(w, f"eval{unit.id}-{i}")
        services.submit_response(q, unit, services.respondent_for(user), answers(q, choice=choice, score=choice + 2))
    db.session.commit()


def test_results_give_n_mean_and_distribution_split_by_respondent(client, world):
    q = open_questionnaire(world)
    _respond(world, q, world.district, citizens=(3, 3, 2), evaluators=(1,))
    (unit,) = services.results(q)
    choice, score = q.questions
    assert unit.unit.id == world.district.id and unit.responses == {"citizen": 3, "evaluator": 1}
    everyone = unit.questions[choice.id]["all"]
    assert everyone.n == 4 and everyone.distribution == {3: 2, 2: 1, 1: 1}
    assert everyone.satisfaction == pytest.approx((2 + 0.9) / 4)
    assert unit.questions[choice.id]["citizen"].n == 3
    assert unit.questions[choice.id]["evaluator"].distribution == {1: 1}
    assert unit.questions[score.id]["all"].mean == pytest.approx((5 + 5 + 4 + 3) / 4)
    login(client, "admin")
    page = client.get(f"/evaluation/admin/{q.id}/results").get_data(as_text=True)
    assert "东湖区" in page and "<svg" in page and "72.5%" in page


def test_no_published_figure_on_fewer_than_the_minimum_answers(app, client, world):
    app.config["PUBLIC_MIN_ANSWERS"] = 3
    q = open_questionnaire(world)
    _respond(world, q, world.district, citizens=(3, 3, 3))
    _respond(world, q, world.other_district, citizens=(1,))
    services.change_status(world.admin, q, "close")
    services.change_status(world.admin, q, "publish")
    db.session.commit()
    data = client.get("/public/evaluation.json").get_json()
    assert data["min_answers"] == 3
    units = {u["unit"]: u for u in data["questionnaires"][0]["units"]}
    enough, few = units["东湖区"]["questions"][0], units["西江区"]["questions"][0]
    assert enough["all"] == {"n": 3, "value": 1.0}
    assert few["all"] == {"n": 1, "value": None}
    assert enough["evaluator"] == {"n": 0, "value": None}
    page = client.get("/public/stats").get_data(as_text=True)
    section = page[page.index("public-evaluation") :]
    assert "100.0%" in section and re.search(r"too-few[^>]*>[^<]*n=1", section)


def test_one_rating_no_longer_publishes_a_satisfaction_rate_and_enough_ratings_do(app, client, world):
    """Today's bug: one unsatisfied rating published "满意率 0.0 %" for the unit on the public page."""
    ticket = world.ticket_in("pending_callback")
    from hotline.tickets.services import apply_transition

    apply_transition(ticket, "rate_unsatisfied", world.operator)
    db.session.commit()
    rollup_today()
    db.session.commit()
    page = client.get("/public/stats").get_data(as_text=True)
    units = page[page.index("public-units") : page.index("public-categories")]
    assert "东湖区" in units
    assert "0.0%" not in units
    assert re.search(r"too-few[^>]*>[^<]*n=1", units)
    app.config["PUBLIC_MIN_ANSWERS"] = 2
    second = world.ticket_in("closed")  # rated 满意 by the callback
    assert second.satisfaction == "satisfied"
    db.session.commit()
    rollup_today()
    db.session.commit()
    units = client.get("/public/stats").get_data(as_text=True)
    units = units[units.index("public-units") : units.index("public-categories")]
    assert "50.0%" in units  # (1 + 0) / 2 rated


# --- the role and its account ---------------------------------------------------------------------------------


def test_flask_users_create_makes_an_evaluator(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "zhengxie",
            "--password",
            "harbour-s3cret-pass",
            "--unit",
            "city",
            "--role",
            "evaluator",
            "--name",
            "政协委员 钱明",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).filter_by(username="zhengxie")).scalar_one()
    assert [r.role for r in user.roles] == ["evaluator"]
    bad = runner.invoke(
        args=["users", "create", "x", "--password", "harbour-s3cret-pass", "--unit", "city", "--role", "juror"]
    )
    assert bad.exit_code != 0 and "juror" in bad.output
