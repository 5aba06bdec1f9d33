"""``POST /api/v1/tickets/<tracking_no>/actions/<action>``: every workflow action of the staff UI, for tools.

The names, what each reads and what it calls come from ``hotline.tickets.actions``; this door parses the JSON
(unit codes, ISO 8601 times) into the table's values. Same services, same permission checks as the pages: 403
outside the actor's role or org subtree, 409 on an invalid transition or a lost race (send ``version`` to detect
one), 422 with ``fields`` on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy import select

from hotline.api import present
from hotline.api.auth import Caller, require_authenticated
from hotline.api.queries import visible_ticket
from hotline.api.schemas import TicketSchema
from hotline.api.views import BEARER, bp, error_responses
from hotline.core.clock import to_utc_naive
from hotline.core.errors import PermissionDenied, ValidationFailed
from hotline.core.params import FIRST_MOMENT, LAST_MOMENT
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.tickets.actions import ACTIONS, API_ACTIONS, api_description


class ActionSchema(ma.Schema):
    """Fields each action reads; the others are ignored."""

    version = fields.Integer(metadata={"description": "The ticket version you saw; a newer one → 409."})
    note = fields.String(
        validate=validate.Length(max=2000),
        metadata={
            "description": "Reason (refuse, request_return, judge_return rejected, review sent back, requests), "
            "answer text (answer_directly) or note/opinion text."
        },
    )
    body = fields.String(validate=validate.Length(max=10000), metadata={"description": "reply: the answer."})
    lead_unit = fields.String(metadata={"description": "dispatch: unit code of the lead unit (主办)."})
    assist_units = fields.List(fields.String(), metadata={"description": "dispatch: assisting unit codes."})
    unit = fields.String(metadata={"description": "pass_down: code of the unit below."})
    approve = fields.Boolean(
        metadata={
            "description": "judge_return / judge_extension / judge_suspension / review: true approves, false rejects."
        }
    )
    satisfaction = fields.String(
        validate=validate.OneOf(["satisfied", "basically", "unsatisfied", "not_reached"]),
        metadata={"description": "rate: 满意 / 基本满意 / 不满意 / 未联系上."},
    )
    comment = fields.String(validate=validate.Length(max=2000))
    master = fields.String(metadata={"description": "merge: tracking number of the open master ticket."})
    new_deadline = fields.AwareDateTime(
        validate=validate.Range(FIRST_MOMENT, LAST_MOMENT),
        metadata={"description": "request_extension: ISO 8601 with offset."},
    )
    resume_by = fields.AwareDateTime(
        validate=validate.Range(FIRST_MOMENT, LAST_MOMENT),
        metadata={"description": "request_suspension: planned end (optional)."},
    )


@bp.route("/tickets/<tracking_no>/actions/<any(" + ", ".join(API_ACTIONS) + "):action>", methods=["POST"])
@bp.arguments(ActionSchema)
@bp.response(200, TicketSchema)
@bp.doc(
    security=[BEARER],
    responses=error_responses(400, 401, 403, 404, 409, 422),
    description=api_description(),
    parameters=[
        {"in": "path", "name": "action", "required": True, "schema": {"type": "string", "enum": list(API_ACTIONS)}}
    ],
)
def act(data, tracking_no, action):
    """Apply a workflow action as the authenticated staff member; answers with the updated ticket."""
    caller = require_authenticated()
    if caller.user is None:
        raise PermissionDenied(_l("Workflow actions need a staff token, not an API key."))
    ticket = visible_ticket(caller, tracking_no)
    entry = ACTIONS[action]
    values = {
        "note": data.get("note"),
        "version": data.get("version"),
        **{field: _PARSE[field](data, caller) for field in entry.reads},
    }
    entry.run(ticket, caller.user, values)
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


def _utc(moment: datetime | None) -> datetime | None:
    return to_utc_naive(moment) if moment else None


# How each field the table names is read from the JSON body.
_PARSE: dict[str, Callable[[dict, Caller], Any]] = {
    "body": lambda data, caller: data.get("body"),
    "lead_unit": lambda data, caller: _unit(data.get("lead_unit"), "lead_unit"),
    "assist_units": lambda data, caller: [_unit(code, "assist_units") for code in data.get("assist_units", [])],
    "unit": lambda data, caller: _unit(data.get("unit"), "unit"),
    "approve": lambda data, caller: data.get("approve"),
    "satisfaction": lambda data, caller: data.get("satisfaction"),
    "comment": lambda data, caller: data.get("comment"),
    "master": lambda data, caller: visible_ticket(caller, data["master"]) if data.get("master") else None,
    "new_deadline": lambda data, caller: _utc(data.get("new_deadline")),
    "resume_by": lambda data, caller: _utc(data.get("resume_by")),
}
