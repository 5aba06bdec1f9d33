"""``POST /api/v1/tickets/<tracking_no>/actions/<action>``: every workflow action of the staff UI, for tools.

Same services, same permission checks as the pages: 403 outside the actor's role or org subtree, 409 on an
invalid transition or a lost race (send ``version`` to detect one), 422 with ``fields`` on bad input.
"""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy import select

from hotline.api import present
from hotline.api.auth import require_authenticated
from hotline.api.queries import visible_ticket
from hotline.api.schemas import TicketSchema
from hotline.api.views import BEARER, _errors, bp
from hotline.core.clock import to_utc_naive
from hotline.core.errors import NotFound, PermissionDenied, ValidationFailed
from hotline.core.params import FIRST_MOMENT, LAST_MOMENT
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.sla import services as sla
from hotline.tickets import handling
from hotline.tickets.models import ExtensionRequest, RequestState, SuspensionRequest
from hotline.tickets.services import apply_transition

ACTIONS = ("accept", "refuse", "answer_directly", "dispatch", "sign", "request_return", "judge_return",
           "pass_down", "note", "opinion", "request_extension", "judge_extension", "request_suspension",
           "judge_suspension", "resume", "reply", "review", "rate", "merge")


class ActionSchema(ma.Schema):
    """Fields each action reads; the others are ignored."""
    version = fields.Integer(metadata={"description": "The ticket version you saw; a newer one → 409."})
    note = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "Reason (refuse, request_return, judge_return rejected, review sent back, requests), "
                       "answer text (answer_directly) or note/opinion text."})
    body = fields.String(validate=validate.Length(max=10000), metadata={"description": "reply: the answer."})
    lead_unit = fields.String(metadata={"description": "dispatch: unit code of the lead unit (主办)."})
    assist_units = fields.List(fields.String(), metadata={"description": "dispatch: assisting unit codes."})
    unit = fields.String(metadata={"description": "pass_down: code of the unit below."})
    approve = fields.Boolean(metadata={"description": "judge_return / judge_extension / judge_suspension / "
                                                      "review: true approves, false rejects."})
    satisfaction = fields.String(validate=validate.OneOf(["satisfied", "basically", "unsatisfied", "not_reached"]),
                                 metadata={"description": "rate: 满意 / 基本满意 / 不满意 / 未联系上."})
    comment = fields.String(validate=validate.Length(max=2000))
    master = fields.String(metadata={"description": "merge: tracking number of the open master ticket."})
    new_deadline = fields.AwareDateTime(validate=validate.Range(FIRST_MOMENT, LAST_MOMENT),
                                        metadata={"description": "request_extension: ISO 8601 with offset."})
    resume_by = fields.AwareDateTime(validate=validate.Range(FIRST_MOMENT, LAST_MOMENT),
                                     metadata={"description": "request_suspension: planned end (optional)."})


@bp.route("/tickets/<tracking_no>/actions/<any(" + ", ".join(ACTIONS) + "):action>", methods=["POST"])
@bp.arguments(ActionSchema)
@bp.response(200, TicketSchema)
@bp.doc(security=[BEARER], responses=_errors(400, 401, 403, 404, 409, 422),
        parameters=[{"in": "path", "name": "action", "required": True,
                     "schema": {"type": "string", "enum": list(ACTIONS)}}])
def act(data, tracking_no, action):
    """Apply a workflow action as the authenticated staff member; answers with the updated ticket.

    accept, refuse, answer_directly (operator) · dispatch, judge_return, review, merge (dispatcher) · sign,
    request_return, pass_down, reply, opinion, request_extension, request_suspension (handler of the unit) ·
    judge_extension, judge_suspension, resume (supervisor) · note (units and hotline staff) · rate (callback; on a
    merged ticket, its caller's rating of the master's answer).
    """
    caller = require_authenticated()
    if caller.user is None:
        raise PermissionDenied(_l("Workflow actions need a staff token, not an API key."))
    ticket = visible_ticket(caller, tracking_no)
    _run(action, ticket, caller.user, data)
    db.session.commit()
    db.session.refresh(ticket)
    data = present.detail(ticket, caller)
    db.session.commit()  # the audit row of a full-contact view
    return data


def _unit(code: str | None, field: str) -> OrgUnit:
    unit = db.session.execute(select(OrgUnit).filter_by(code=code or "")).scalar_one_or_none()
    if unit is None:
        raise ValidationFailed(_l("Unknown unit."), field=field)
    return unit


def _pending(model, ticket):
    request = db.session.execute(select(model).filter_by(ticket_id=ticket.id, state=RequestState.PENDING.value)
                                 .order_by(model.id.desc())).scalars().first()
    if request is None:
        raise NotFound(_l("There is no pending request to decide."))
    return request


def _approve(data) -> bool:
    if "approve" not in data:
        raise ValidationFailed(_l("Say whether you approve."), field="approve")
    return data["approve"]


def _utc(moment: datetime | None) -> datetime | None:
    return to_utc_naive(moment) if moment else None


def _run(action: str, ticket, user, data: dict) -> None:
    note, version = data.get("note"), data.get("version")
    move = lambda name, **params: apply_transition(ticket, name, user, note=note,  # noqa: E731
                                                    expected_version=version, **params)
    if action in ("accept", "refuse", "answer_directly", "sign", "request_return", "resume"):
        move(action)
    elif action == "dispatch":
        move("dispatch", lead_unit=_unit(data.get("lead_unit"), "lead_unit"),
             assist_units=[_unit(code, "assist_units") for code in data.get("assist_units", [])])
    elif action == "judge_return":
        move("approve_return" if _approve(data) else "reject_return")
    elif action == "pass_down":
        move("pass_down", unit=_unit(data.get("unit"), "unit"))
    elif action == "reply":
        move("reply", body=data.get("body"))
    elif action == "review":
        move("approve_reply" if _approve(data) else "send_back_reply")
    elif action == "rate":
        rating = data.get("satisfaction")
        if rating is None:
            raise ValidationFailed(_l("Choose a rating."), field="satisfaction")
        if ticket.status == "merged":  # a merged caller's rating of the master's answer, kept on their ticket
            move("rate_merged", satisfaction=rating, comment=data.get("comment"))
        elif rating == "unsatisfied":
            move("rate_unsatisfied", comment=data.get("comment"))
        elif rating == "not_reached":
            move("close_unreached")
        else:
            move("rate_satisfied", satisfaction=rating, comment=data.get("comment"))
    elif action == "merge":
        master = visible_ticket(_caller_for(user), data.get("master") or "") if data.get("master") else None
        move("merge", master=master)
    elif action == "note":
        handling.add_note(ticket, user, note)
    elif action == "opinion":
        handling.send_opinion(ticket, user, note)
    elif action == "request_extension":
        if not data.get("new_deadline"):
            raise ValidationFailed(_l("Give the new deadline."), field="new_deadline")
        sla.request_extension(ticket, user, _utc(data["new_deadline"]), note or "")
    elif action == "judge_extension":
        sla.decide_extension(_pending(ExtensionRequest, ticket), user, _approve(data), note)
    elif action == "request_suspension":
        sla.request_suspension(ticket, user, note or "", _utc(data.get("resume_by")))
    elif action == "judge_suspension":
        sla.decide_suspension(_pending(SuspensionRequest, ticket), user, _approve(data), note)


def _caller_for(user):
    from hotline.api.auth import Caller
    return Caller(user=user)
