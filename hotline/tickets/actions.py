"""The staff actions on a ticket as one table, read by both doors and by the API's OpenAPI document.

The ticket page posts to ``/tickets/<no>/actions/<name>`` (and ``/tickets/<no>/note|opinion``) and keys the
table by workflow transition name; the API posts to ``/api/v1/tickets/<no>/actions/<name>`` with its own
names, three of which (``judge_return``, ``review``, ``rate``) choose the transition from the data. Each entry
names the request fields it reads; a door parses them from its own encoding (the web's ``ActionForm``: unit
ids; the API's ``ActionSchema``: unit codes, ISO 8601 times) into the same values and calls ``run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.accounts.models import User
from hotline.core.errors import NotFound, ValidationFailed
from hotline.extensions import db
from hotline.sla import clock
from hotline.tickets import handling
from hotline.tickets.models import ExtensionRequest, RequestState, SuspensionRequest, Ticket
from hotline.tickets.services import apply_transition
from hotline.tickets.workflow import TRANSITIONS, Status

# What a door hands to ``run``: ``note`` and ``version`` always, plus the entry's ``reads``, parsed.
Values = Mapping[str, Any]

# Staff roles in the order the API document names them.
_ROLE_ORDER = ("operator", "dispatcher", "handler", "supervisor", "citizen")


@dataclass(frozen=True)
class Action:
    name: str  # the name in the URL
    reads: tuple[str, ...]  # request fields read besides note and version, in the order they are checked
    call: Callable[[Ticket, User, Values], object]
    roles: tuple[str, ...]  # who may (for the API document; the service decides)
    web: bool = True  # posted by the ticket page to /tickets/<no>/actions/<name>
    api: bool = True  # an API action name
    chooses: tuple[str, ...] = ()  # the transitions an API name resolves to
    reason_required: bool = False

    def run(self, ticket: Ticket, user: User, values: Values) -> None:
        """Apply the action; the caller commits, or rolls back on a ``DomainError``. The service decides who may
        (``permissions.can_act`` and friends), after the ticket's state: a state that forbids the action answers
        409 before a role answers 403, as on both doors before."""
        self.call(ticket, user, values)


def _roles(actors: Iterable[str]) -> tuple[str, ...]:
    return tuple(r for r in _ROLE_ORDER if r in actors)


def _transition(name: str, *reads: str, api: bool = False) -> Action:
    """A workflow transition: ``apply_transition`` with note, version and the fields it reads as parameters."""
    transition = TRANSITIONS[name]

    def call(ticket: Ticket, user: User, values: Values) -> None:
        apply_transition(
            ticket,
            name,
            user,
            note=values.get("note"),
            expected_version=values.get("version"),
            **{field: values.get(field) for field in reads},
        )

    return Action(name, reads, call, _roles(transition.actors), api=api, reason_required=transition.reason_required)


def _choice(
    name: str, reads: tuple[str, ...], choose: Callable[[Ticket, Values], str], chooses: tuple[str, ...]
) -> Action:
    """An API name whose data picks the transition (``judge_return`` + ``approve`` → approve_/reject_return)."""

    def call(ticket: Ticket, user: User, values: Values) -> None:
        ACTIONS[choose(ticket, values)].run(ticket, user, values)

    every = tuple(dict.fromkeys(reads + tuple(f for c in chooses for f in _TRANSITION_READS.get(c, ()))))
    actors = {a for c in chooses for a in TRANSITIONS[c].actors}
    return Action(name, every, call, _roles(actors), web=False, chooses=chooses)


def _service(
    name: str, reads: tuple[str, ...], call: Callable[[Ticket, User, Values], object], roles: tuple[str, ...]
) -> Action:
    """An action that is not a status change (notes, opinions, SLA requests): the API door only; the ticket
    page has its own forms for them (``tickets.views.write``, ``sla.views``)."""
    return Action(name, reads, call, roles, web=False)


def _required(values: Values, field: str) -> Any:
    value = values.get(field)
    if value is None:
        raise ValidationFailed(_REQUIRED[field], field=field)
    return value


_REQUIRED = {
    "approve": _l("Say whether you approve."),
    "satisfaction": _l("Choose a rating."),
    "new_deadline": _l("Give the new deadline."),
}


def _pending(model: type[ExtensionRequest] | type[SuspensionRequest], ticket: Ticket) -> Any:
    request = (
        db.session.execute(
            select(model).filter_by(ticket_id=ticket.id, state=RequestState.PENDING.value).order_by(model.id.desc())
        )
        .scalars()
        .first()
    )
    if request is None:
        raise NotFound(_l("There is no pending request to decide."))
    return request


def _rating(ticket: Ticket, values: Values) -> str:
    rating = _required(values, "satisfaction")
    if ticket.status == Status.MERGED.value:  # a merged caller's rating of the master's answer, kept on their ticket
        return "rate_merged"
    return {"unsatisfied": "rate_unsatisfied", "not_reached": "close_unreached"}.get(rating, "rate_satisfied")


_TRANSITION_READS = {
    "dispatch": ("lead_unit", "assist_units"),
    "pass_down": ("unit",),
    "reply": ("body",),
    "merge": ("master",),
    "rate_satisfied": ("satisfaction", "comment"),
    "rate_unsatisfied": ("comment",),
    "rate_merged": ("satisfaction", "comment"),
}


def _moves(*names: str, api: bool = False) -> list[Action]:
    return [_transition(name, *_TRANSITION_READS.get(name, ()), api=api) for name in names]


_HANDLER, _SUPERVISOR = ("handler",), ("supervisor",)

# Table order is the API document's order of action names.
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        *_moves("accept", "refuse", "answer_directly", "dispatch", "sign", "request_return", api=True),
        *_moves("transfer_emergency", "approve_return", "reject_return"),
        _choice(
            "judge_return",
            ("approve",),
            lambda ticket, values: "approve_return" if _required(values, "approve") else "reject_return",
            ("approve_return", "reject_return"),
        ),
        *_moves("pass_down", api=True),
        _service(
            "note",
            (),
            lambda ticket, user, values: handling.add_note(ticket, user, values["note"]),
            ("handler", "operator", "dispatcher", "supervisor", "admin"),
        ),
        _service(
            "opinion", (), lambda ticket, user, values: handling.send_opinion(ticket, user, values["note"]), _HANDLER
        ),
        _service(
            "request_extension",
            ("new_deadline",),
            lambda ticket, user, values: clock.request_extension(
                ticket, user, _required(values, "new_deadline"), values.get("note") or ""
            ),
            _HANDLER,
        ),
        _service(
            "judge_extension",
            ("approve",),
            lambda ticket, user, values: clock.decide_extension(
                _pending(ExtensionRequest, ticket), user, _required(values, "approve"), values.get("note")
            ),
            _SUPERVISOR,
        ),
        _service(
            "request_suspension",
            ("resume_by",),
            lambda ticket, user, values: clock.request_suspension(
                ticket, user, values.get("note") or "", values.get("resume_by")
            ),
            _HANDLER,
        ),
        _service(
            "judge_suspension",
            ("approve",),
            lambda ticket, user, values: clock.decide_suspension(
                _pending(SuspensionRequest, ticket), user, _required(values, "approve"), values.get("note")
            ),
            _SUPERVISOR,
        ),
        *_moves("suspend"),
        *_moves("resume", "reply", api=True),
        *_moves("approve_reply", "send_back_reply"),
        _choice(
            "review",
            ("approve",),
            lambda ticket, values: "approve_reply" if _required(values, "approve") else "send_back_reply",
            ("approve_reply", "send_back_reply"),
        ),
        *_moves("rate_satisfied", "rate_unsatisfied", "close_unreached", "rate_merged"),
        _choice(
            "rate",
            ("satisfaction", "comment"),
            _rating,
            ("rate_satisfied", "rate_unsatisfied", "close_unreached", "rate_merged"),
        ),
        *_moves("merge", api=True),
    ]
}

WEB_ACTIONS: dict[str, Action] = {name: a for name, a in ACTIONS.items() if a.web}
API_ACTIONS: tuple[str, ...] = tuple(name for name, a in ACTIONS.items() if a.api)


def api_description() -> str:
    """The action endpoint's description in the OpenAPI document: who may use each name and what it reads."""
    lines = []
    for name in API_ACTIONS:
        action = ACTIONS[name]
        reads = ", ".join(("note (required)" if action.reason_required else "note", *action.reads))
        chooses = f" → {' / '.join(action.chooses)}" if action.chooses else ""
        lines.append(f"- `{name}` ({', '.join(action.roles)}): {reads}{chooses}")
    return "Fields each action reads (the others are ignored); every action also takes `version`:\n\n" + "\n".join(
        lines
    )
