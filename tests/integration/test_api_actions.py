"""Every workflow action through POST /api/v1/tickets/<no>/actions/<action>, with the UI's checks."""

from datetime import timedelta

import pytest

from hotline.core.clock import to_local
from hotline.extensions import db
from tests.factories import PHONE
from tests.integration.api_helpers import appeal_json, new_key, token_for


def act(client, user, ticket_no, action, **body):
    return client.post(f"/api/v1/tickets/{ticket_no}/actions/{action}", json=body, headers=token_for(user))


def test_the_whole_lifecycle_through_the_api(client, world):
    filed = client.post("/api/v1/tickets", json=appeal_json(world), headers=token_for(world.operator))
    assert filed.status_code == 201
    no = filed.get_json()["tracking_no"]
    steps = [
        (world.dispatcher, "dispatch", {"lead_unit": world.department.code}, "dispatched"),
        (world.department_handler, "sign", {}, "in_progress"),
        (world.department_handler, "note", {"note": "已联系物业"}, "in_progress"),
        (world.department_handler, "pass_down", {"unit": world.street.code}, "in_progress"),
        (world.street_handler, "reply", {"body": "街道已督促整改。"}, "replied"),
        (world.dispatcher, "review", {"approve": False, "note": "请补充整改结果"}, "in_progress"),
        (world.street_handler, "reply", {"body": "物业已退还多收费用。"}, "replied"),
        (world.dispatcher, "review", {"approve": True}, "pending_callback"),
        (world.operator, "rate", {"satisfaction": "unsatisfied", "comment": "没解决"}, "in_progress"),
        (world.street_handler, "reply", {"body": "已再次上门核实并解决。"}, "replied"),
        (world.dispatcher, "review", {"approve": True}, "pending_callback"),
        (world.operator, "rate", {"satisfaction": "satisfied"}, "closed"),
    ]
    for user, action, body, status in steps:
        response = act(client, user, no, action, **body)
        assert response.status_code == 200, (action, response.get_json())
        assert response.get_json()["status"] == status, action
    final = response.get_json()
    assert final["satisfaction"] == "satisfied"
    assert [e["action"] for e in final["events"]].count("reply") == 3


def test_return_judged_through_the_api(client, world):
    ticket = world.ticket_in("return_requested")
    assert (
        act(client, world.dispatcher, ticket.tracking_no, "judge_return", approve=True).get_json()["status"]
        == "pending_dispatch"
    )
    again = world.ticket_in("return_requested")
    refused = act(client, world.dispatcher, again.tracking_no, "judge_return", approve=False, note="属于你单位职责")
    assert refused.get_json()["status"] == "in_progress"


def test_extension_and_suspension_through_the_api(client, world):
    ticket = world.ticket_in("in_progress")
    later = to_local(ticket.answer_deadline_at + timedelta(days=7)).isoformat()
    assert (
        act(
            client,
            world.district_handler,
            ticket.tracking_no,
            "request_extension",
            new_deadline=later,
            note="需要第三方检测",
        ).status_code
        == 200
    )
    assert act(client, world.supervisor, ticket.tracking_no, "judge_extension", approve=True).status_code == 200
    asked = act(client, world.district_handler, ticket.tracking_no, "request_suspension", note="等待法院判决")
    assert asked.status_code == 200
    suspended = act(client, world.supervisor, ticket.tracking_no, "judge_suspension", approve=True)
    assert suspended.get_json()["status"] == "suspended"
    assert act(client, world.supervisor, ticket.tracking_no, "resume").get_json()["status"] == "in_progress"


def test_assisting_opinion_and_merge(client, world):
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user

    helper = create_user(
        "assist",
        "long-enough-pw",
        "协办",
        org_unit=world.other_department,
        roles=[(Role.HANDLER, world.other_department)],
    )
    db.session.commit()
    ticket = world.ticket_in("pending_dispatch")
    act(
        client,
        world.dispatcher,
        ticket.tracking_no,
        "dispatch",
        lead_unit=world.district.code,
        assist_units=[world.other_department.code],
    )
    assert act(client, helper, ticket.tracking_no, "opinion", note="建议街道牵头").status_code == 200
    duplicate = world.ticket_in("pending_dispatch")
    merged = act(client, world.dispatcher, duplicate.tracking_no, "merge", master=ticket.tracking_no)
    assert merged.get_json()["status"] == "merged"


@pytest.mark.parametrize(
    "who, action, body, status, code",
    [
        ("outsider", "sign", {}, 404, "not_found"),  # other district: not even visible
        ("district_handler", "review", {"approve": True}, 409, "conflict"),  # not possible in this state
        ("dispatcher", "sign", {}, 403, "forbidden"),  # role lacks it
        ("district_handler", "request_return", {}, 422, "validation_failed"),  # reason required
        ("district_handler", "sign", {"version": 1}, 409, "conflict"),  # stale version
    ],
)
def test_refusals_change_nothing(client, world, who, action, body, status, code):
    ticket = world.ticket_in("dispatched")
    before = (ticket.status, ticket.version, len(ticket.events))
    response = act(client, getattr(world, who), ticket.tracking_no, action, **body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    if status == 422:
        assert "note" in response.get_json()["error"]["fields"]
    db.session.expire_all()
    assert (ticket.status, ticket.version, len(ticket.events)) == before


def test_api_keys_cannot_act_and_anonymous_must_authenticate(client, world):
    ticket = world.ticket_in("dispatched")
    _, headers = new_key()
    assert client.post(f"/api/v1/tickets/{ticket.tracking_no}/actions/sign", json={}, headers=headers).status_code in (
        403,
        404,
    )
    assert client.post(f"/api/v1/tickets/{ticket.tracking_no}/actions/sign", json={}).status_code == 401
    assert (
        client.post(
            f"/api/v1/tickets/{ticket.tracking_no}/actions/teleport", json={}, headers=token_for(world.dispatcher)
        ).status_code
        == 404
    )


def test_handlers_get_masked_phones_from_every_action_response(client, world):
    ticket = world.ticket_in("dispatched")
    response = act(client, world.district_handler, ticket.tracking_no, "sign")
    assert PHONE not in response.get_data(as_text=True)
    assert response.get_json()["citizen_phone"] == "139****5678"


def test_actions_are_in_the_openapi_document(client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/tickets/{tracking_no}/actions/{action}"]["post"]
    enum = next(p for p in operation["parameters"] if p["name"] == "action")["schema"]["enum"]
    assert {"accept", "dispatch", "judge_return", "review", "rate", "merge", "judge_suspension"} <= set(enum)
    assert {"403", "409", "422"} <= set(operation["responses"])
