"""考核 on both back ends: closing freezes the scores, a recompute is audited, an upheld objection takes its
ticket out, units see only their own, the XLSX holds the table and the public page shows released periods only.

March 2026 through the real services at frozen moments (Asia/Shanghai wall clock); 2026-03-02 is a Monday.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.assessment import services
from hotline.assessment.models import AssessmentObjection, AssessmentPeriod, AssessmentScore
from hotline.core.audit import AuditEntry
from hotline.core.clock import frozen_at, to_utc_naive
from hotline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from hotline.dashboard import services as dashboard_services
from hotline.extensions import db
from hotline.sla.supervision import issue_supervision_order, respond_to_supervision
from hotline.tickets.services import apply_transition, register_ticket
from tests.factories import PASSWORD, PHONE, appeal

D = date(2026, 3, 2)


def at(day: int, hour: float) -> datetime:
    return to_utc_naive(datetime.combine(D + timedelta(days=day), datetime.min.time()) + timedelta(hours=hour))


def act(when, ticket, action, actor, **params):
    with frozen_at(when):
        return apply_transition(ticket, action, actor, **params)


def new(w, when, phone):
    with frozen_at(when):
        return register_ticket(appeal(w, citizen_phone=phone), w.operator, "register")


def answered(w, when, unit, handler, phone, rating="satisfied"):
    t = new(w, when, phone)
    act(when, t, "dispatch", w.dispatcher, lead_unit=unit)
    act(when + timedelta(hours=1), t, "sign", handler)
    act(when + timedelta(hours=3), t, "reply", handler, body="已处理")
    act(when + timedelta(hours=4), t, "approve_reply", w.dispatcher)
    if rating == "unsatisfied":
        act(when + timedelta(hours=5), t, "rate_unsatisfied", w.operator, comment="没解决")
    else:
        act(when + timedelta(hours=5), t, "rate_satisfied", w.operator, satisfaction=rating)
    return t


@pytest.fixture
def march(world):
    w = world
    w.a = answered(w, at(0, 9), w.district, w.district_handler, "13900000001")
    # B: returned by the district, then answered by the housing bureau, rated unsatisfied (a redo).
    w.b = new(w, at(1, 9), "13900000002")
    act(at(1, 9), w.b, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(1, 10), w.b, "request_return", w.district_handler, note="不属于本单位")
    act(at(1, 11), w.b, "approve_return", w.dispatcher)
    act(at(1, 12), w.b, "dispatch", w.dispatcher, lead_unit=w.department)
    act(at(1, 13), w.b, "sign", w.department_handler)
    act(at(2, 9), w.b, "reply", w.department_handler, body="已答复")
    act(at(2, 10), w.b, "approve_reply", w.dispatcher)
    act(at(2, 11), w.b, "rate_unsatisfied", w.operator, comment="没解决")
    w.c = answered(w, at(3, 9), w.street, w.street_handler, "13900000003", rating="basically")
    # A supervision order to the district on an open ticket, answered within its deadline.
    w.d = new(w, at(4, 9), "13900000004")
    act(at(4, 9), w.d, "dispatch", w.dispatcher, lead_unit=w.district)
    with frozen_at(at(4, 10)):
        order = issue_supervision_order(w.d, w.supervisor, "请尽快办理")
    with frozen_at(at(4, 12)):
        respond_to_supervision(order, w.district_handler, "已安排")
    db.session.commit()
    w.period = services.create_period(w.admin, "2026-03")
    db.session.commit()
    return w


def _score(period, unit) -> AssessmentScore:
    return db.session.execute(select(AssessmentScore).filter_by(period_id=period.id, unit_id=unit.id)).scalar_one()


def _audits(action):
    return list(db.session.execute(select(AuditEntry).filter_by(action=action)).scalars())


def login(client, username):
    forget_user()
    client.post("/login", data={"username": username, "password": PASSWORD})
    forget_user()


def forget_user():
    """The tests hold an app context: Flask-Login's per-request user cache on ``g`` would outlive a request."""
    from flask import g

    g.pop("_login_user", None)


def test_closing_freezes_scores_later_ticket_changes_do_not_move_them(march):
    w = march
    services.close_period(w.admin, w.period)
    db.session.commit()
    district = _score(w.period, w.district)
    assert (district.dispatched, district.returned, district.answered, district.answered_on_time) == (3, 1, 1, 1)
    assert (district.orders, district.orders_on_time, district.supervision_rate) == (1, 1, 1.0)
    assert district.return_rate == pytest.approx(1 / 3) and district.satisfaction_rate == 1.0
    # 30·1 + 10·(2/3) + 15·1 + 35·1 + 10·1 over 100
    assert district.score == pytest.approx(round(100 * (30 + 10 * 2 / 3 + 15 + 35 + 10) / 100, 2))
    department = _score(w.period, w.department)
    assert (department.redone, department.redo_rate, department.satisfaction_rate) == (1, 1.0, 0.0)
    street = _score(w.period, w.street)
    assert street.satisfaction_rate == pytest.approx(0.9) and street.rank == 1 and street.level == "street"
    assert district.rank == 1 and district.level == "district"
    assert w.period.status == "closed" and w.period.closed_at is not None
    frozen = {s.unit_id: s.score for s in db.session.execute(select(AssessmentScore)).scalars()}

    # After the close: a late ticket lands in March for the district, answered late; the rollup counts it.
    late = new(w, at(5, 9), "13900000005")
    act(at(5, 9), late, "dispatch", w.dispatcher, lead_unit=w.district)
    act(at(5, 10), late, "sign", w.district_handler)
    late.lead_assignment().answer_deadline_at = at(5, 11)
    act(at(5, 12), late, "reply", w.district_handler, body="迟复")
    act(at(5, 13), late, "approve_reply", w.dispatcher)
    act(at(5, 14), late, "rate_unsatisfied", w.operator, comment="太慢")
    db.session.commit()
    dashboard_services.rebuild(w.period.start, w.period.end)
    db.session.commit()
    live = {row.unit.id: row.score for row in services.compute(w.period)}
    assert live[w.district.id] < frozen[w.district.id]  # the data did move...
    db.session.expire_all()
    assert {s.unit_id: s.score for s in db.session.execute(select(AssessmentScore)).scalars()} == frozen  # ...not it
    page = _page(w, "admin")
    assert f"{frozen[w.district.id]:.2f}" in page

    # Closing again is refused; a recompute needs a reason, then applies today's data and is audited.
    with pytest.raises(InvalidTransition):
        services.close_period(w.admin, w.period)
    with pytest.raises(ValidationFailed):
        services.recompute_period(w.admin, w.period, "  ")
    with pytest.raises(PermissionDenied):
        services.recompute_period(w.supervisor, w.period, "数据更正")
    db.session.rollback()
    services.recompute_period(w.admin, w.period, "补录3月6日工单")
    db.session.commit()
    assert _score(w.period, w.district).score == live[w.district.id]
    (entry,) = _audits("assessment.recompute")
    detail = json.loads(entry.detail)
    assert entry.actor_name == "admin" and detail["reason"] == "补录3月6日工单"
    assert detail["changed"][str(w.district.id)] == [frozen[w.district.id], live[w.district.id]]
    assert len(_audits("assessment.close")) == 1


def _page(w, username, period=None):
    from flask import current_app

    client = current_app.test_client()
    login(client, username)
    response = client.get(f"/assessment/{(period or w.period).id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_period_closes_only_after_its_last_day_and_only_by_an_admin(march):
    w = march
    with pytest.raises(PermissionDenied):
        services.close_period(w.supervisor, w.period)
    current = services.create_period(w.admin, dashboard_services.local_today().strftime("%Y-%m"))
    with pytest.raises(InvalidTransition):
        services.close_period(w.admin, current)
    db.session.rollback()
    with pytest.raises(ValidationFailed) as refused:
        services.create_period(w.admin, "2026-13")
    assert refused.value.field == "label"
    with pytest.raises(ValidationFailed):
        services.create_period(w.admin, "2026-03")  # exists
    assert services.parse_label("2026-q1")[1:] == (date(2026, 1, 1), date(2026, 3, 31))
    assert services.parse_label("2025")[1:] == (date(2025, 1, 1), date(2025, 12, 31))


def test_an_upheld_objection_takes_the_ticket_out_at_the_recompute(march):
    w = march
    services.close_period(w.admin, w.period)
    db.session.commit()
    assert _score(w.period, w.district).returned == 1
    with pytest.raises(PermissionDenied):  # another district's handler cannot object for 东湖区
        services.file_objection(w.outsider, w.period, w.district, w.b.tracking_no, "非本单位")
    with pytest.raises(ValidationFailed) as refused:  # C was never the district's
        services.file_objection(w.district_handler, w.period, w.district, w.c.tracking_no, "非本单位")
    assert refused.value.field == "tracking_no"
    db.session.rollback()
    objection = services.file_objection(w.district_handler, w.period, w.district, w.b.tracking_no, "派单目录错误")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.decide_objection(w.district_handler, objection, True, "自己批准")
    with pytest.raises(ValidationFailed):
        services.decide_objection(w.supervisor, objection, True, "")
    db.session.rollback()
    services.decide_objection(w.supervisor, objection, True, "派单目录有误，退单不计")
    db.session.commit()
    assert _score(w.period, w.district).returned == 1  # frozen until the recompute
    assert services.pending_application(w.period) == 1
    (decided,) = _audits("assessment.objection_decided")
    assert decided.actor_name == "supervisor" and json.loads(decided.detail)["decision"] == "upheld"
    with pytest.raises(InvalidTransition):
        services.decide_objection(w.supervisor, objection, False, "改判")
    db.session.rollback()

    services.recompute_period(w.admin, w.period, "申诉成立")
    db.session.commit()
    district = _score(w.period, w.district)
    assert (district.dispatched, district.returned, district.return_rate, district.excluded) == (2, 0, 0.0, 1)
    assert _score(w.period, w.department).excluded == 0  # only the unit that objected
    assert services.pending_application(w.period) == 0


def test_objections_close_with_the_release_and_are_only_for_own_units_through_the_page(march, client):
    w = march
    login(client, "district_handler")
    response = client.post(
        f"/assessment/{w.period.id}/objections",
        data={"unit_id": w.other_district.id, "tracking_no": w.a.tracking_no, "reason": "x"},
    )
    assert response.status_code == 403
    assert db.session.execute(select(AssessmentObjection)).first() is None
    response = client.post(
        f"/assessment/{w.period.id}/objections",
        data={"unit_id": w.district.id, "tracking_no": w.a.tracking_no, "reason": "市民重复来电"},
    )
    assert response.status_code == 302
    services.close_period(w.admin, w.period)
    services.release_period(w.admin, w.period)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.file_objection(w.district_handler, w.period, w.district, w.d.tracking_no, "迟到")


def test_a_handler_sees_only_their_units_and_cannot_close(march, client):
    w = march
    services.close_period(w.admin, w.period)
    db.session.commit()
    login(client, "district_handler")
    page = client.get(f"/assessment/{w.period.id}").get_data(as_text=True)
    assert "东湖区" in page and "湖滨街道" in page and "西江区" not in page
    assert client.post(f"/assessment/{w.period.id}/release").status_code == 403
    assert client.post(f"/assessment/{w.period.id}/recompute", data={"reason": "x"}).status_code == 403
    assert w.period.status == "closed"
    other = client.application.test_client()
    login(other, "outsider")
    page = other.get(f"/assessment/{w.period.id}").get_data(as_text=True)
    assert 'data-unit="d1"' not in page and "no-scores" in page
    forget_user()
    workbook = load_workbook(io.BytesIO(other.get(f"/assessment/{w.period.id}/assessment.xlsx").data))
    assert workbook.active.max_row == 1  # the header only


def test_the_xlsx_holds_every_unit_with_its_rank_and_score(march, client):
    w = march
    services.close_period(w.admin, w.period)
    db.session.commit()
    login(client, "supervisor")
    response = client.get(f"/assessment/{w.period.id}/assessment.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header, body = rows[0], rows[1:]
    by_unit = {r[2]: dict(zip(header, r, strict=True)) for r in body}
    assert set(by_unit) == {"东湖区", "东湖区住房和城乡建设局", "湖滨街道"}
    district = _score(w.period, w.district)
    assert list(by_unit["东湖区"].values())[1:4] == [1, "东湖区", district.score]
    assert _audits("export.assessment")


def test_weights_bad_input_changes_nothing(march, client):
    w = march
    login(client, "admin")
    response = client.post(f"/assessment/{w.period.id}/weights", data={"on_time": "abc", "return_": "-1"})
    assert response.status_code == 400
    db.session.expire_all()
    assert w.period.weights["on_time"] == 30.0
    response = client.post(
        f"/assessment/{w.period.id}/weights",
        data={"on_time": "0", "return_": "0", "redo": "0", "satisfaction": "0", "supervision": "0"},
    )
    assert response.status_code == 400
    response = client.post(f"/assessment/{w.period.id}/weights", data={"on_time": "50", "case_points": "2"})
    assert response.status_code == 302
    db.session.expire_all()
    assert w.period.weights["on_time"] == 50.0 and w.period.weights["case_points"] == 2.0
    assert _audits("assessment.weights")


def test_the_public_page_shows_released_periods_only_and_no_personal_data(march, client):
    w = march
    assert "public-assessment" not in client.get("/public/stats").get_data(as_text=True)
    services.close_period(w.admin, w.period)
    db.session.commit()
    assert "public-assessment" not in client.get("/public/stats").get_data(as_text=True)
    services.release_period(w.admin, w.period)
    db.session.commit()
    page = client.get("/public/stats").get_data(as_text=True)
    section = page[page.index('id="public-assessment"') :]
    assert "2026-03" in section and "东湖区" in section and "湖滨街道" in section
    assert "样本不足" in section  # one rating each: under PUBLIC_MIN_ANSWERS
    for personal in ("张伟", PHONE, PHONE[:3] + "****", "13900000001", "阳光花园", "district_handler"):
        assert personal not in section
    client.application.config["PUBLIC_MIN_ANSWERS"] = 1
    page = client.get("/public/stats").get_data(as_text=True)
    assert "样本不足" not in page[page.index('id="public-assessment"') :]
    client.application.config["PUBLIC_MIN_ANSWERS"] = 10


def test_flask_assessment_close(world, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["assessment", "close", "--period", "2026-02"])
    assert result.exit_code == 1 and "没有这个考核周期" in result.output
    result = runner.invoke(args=["assessment", "close", "--period", "2026-02", "--create"])
    assert result.exit_code == 0, result.output
    period = db.session.execute(select(AssessmentPeriod).filter_by(label="2026-02")).scalar_one()
    assert period.status == "closed"
    assert runner.invoke(args=["assessment", "close", "--period", "2026-02"]).exit_code == 1
    assert runner.invoke(args=["assessment", "close", "--period", "bad"]).exit_code == 2  # a usage error
    assert len(_audits("assessment.close")) == 1 and _audits("assessment.close")[0].actor_name == "system"


def test_a_supervisor_decides_an_objection_on_the_page(march, client):
    w = march
    objection = services.file_objection(w.district_handler, w.period, w.district, w.b.tracking_no, "派单错误")
    db.session.commit()
    login(client, "district_handler")
    assert client.post(f"/assessment/objections/{objection.id}/uphold", data={"note": "自批"}).status_code == 403
    client = client.application.test_client()  # signed in afresh: /login keeps a signed-in session as it is
    login(client, "supervisor")
    assert client.post(f"/assessment/objections/{objection.id}/uphold", data={"note": ""}).status_code == 400
    db.session.expire_all()
    assert objection.status == "pending"
    response = client.post(f"/assessment/objections/{objection.id}/reject", data={"note": "退单理由不足"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (objection.status, objection.decision_note, objection.decided_by_id) == (
        "rejected",
        "退单理由不足",
        w.supervisor.id,
    )
    assert json.loads(_audits("assessment.objection_decided")[0].detail)["decision"] == "rejected"


def test_accountability_cases_opened_in_the_period_cost_their_points(march):
    from hotline.accountability.services import CaseInput, open_case
    from hotline.sla.models import SupervisionOrder

    w = march
    order = db.session.execute(select(SupervisionOrder).filter_by(ticket_id=w.d.id)).scalar_one()
    with frozen_at(at(4, 13)):
        open_case(
            w.supervisor,
            CaseInput(
                origin="supervision_order", unit=None, findings="督办后仍未办结", measure="interview", order=order
            ),
        )
    services.set_weights(w.admin, w.period, {**w.period.weights, "case_points": 5})
    services.close_period(w.admin, w.period)
    db.session.commit()
    district = _score(w.period, w.district)
    assert (district.cases, district.deduction) == (1, 5)
    assert district.score == pytest.approx(round(100 * (30 + 10 * 2 / 3 + 15 + 35 + 10) / 100 - 5, 2))
    assert _score(w.period, w.street).cases == 0
