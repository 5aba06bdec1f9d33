"""The ticket workflow as data: every status and every allowed transition.

Imports neither Flask nor the database, so the table can be read, tested and
drawn on its own. ``hotline.tickets.services.apply_transition`` is the only
code that applies it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(str, enum.Enum):
    PENDING_REVIEW = "pending_review"  # 待审核: a web/API appeal waits for an operator
    PENDING_DISPATCH = "pending_dispatch"  # 待派单
    ANSWERED_DIRECTLY = "answered_directly"  # 直接答复
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    TRANSFERRED = "transferred"  # 转紧急热线 (110/119/120/122), recorded
    DISPATCHED = "dispatched"  # 已派单, waiting for 签收
    MERGED = "merged"  # 已并单
    IN_PROGRESS = "in_progress"  # 办理中
    RETURN_REQUESTED = "return_requested"  # 退单审核中
    SUSPENDED = "suspended"  # 已挂起: the clock is paused
    REPLIED = "replied"  # 已答复, waiting for 审核
    PENDING_CALLBACK = "pending_callback"  # 待回访
    CLOSED = "closed"  # 已办结


FINAL_STATUSES = frozenset(
    {Status.ANSWERED_DIRECTLY, Status.NOT_ACCEPTED, Status.TRANSFERRED, Status.MERGED, Status.CLOSED}
)
OPEN_STATUSES = frozenset(Status) - FINAL_STATUSES


class Appeal(str, enum.Enum):
    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬


class Urgency(str, enum.Enum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


class Channel(str, enum.Enum):
    PHONE = "phone"
    WEB = "web"
    API = "api"
    OPEN311 = "open311"
    WECHAT = "wechat"
    EMAIL = "email"


class Satisfaction(str, enum.Enum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    NOT_REACHED = "not_reached"  # 未回访成功 (no rating within the callback window)


class RatingChannel(str, enum.Enum):
    """How a rating reached the hotline (the 满意率's channels on the dashboard)."""

    PHONE = "phone"  # the operator's callback (回访)
    WEB = "web"  # the citizen's tracking page
    LINK = "link"  # the signed link in the release SMS, no sign-in
    SMS = "sms"  # a reply 1 / 2 / 3 to the release SMS


class Actor(str, enum.Enum):
    """Who may trigger a transition, beyond the staff roles."""

    PUBLIC = "public"  # anyone filing on the web or through the API (no account needed)
    CITIZEN = "citizen"  # the appeal's own citizen, proven by tracking number + phone
    SYSTEM = "system"  # the sweep and other background work


class Scope(str, enum.Enum):
    """Which of the ticket's units must lie inside the actor's role scope."""

    INTAKE = "intake"  # the hotline centre that holds the ticket
    LEAD = "lead"  # the current lead unit (or a unit it passed the work down to)
    ANY = "any"  # any unit the ticket is at


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status | None]  # None: the ticket is being created
    target: Status | None  # None: the status stays as it is
    actors: frozenset[str]  # role names (accounts.Role values) or Actor values
    scope: Scope = Scope.INTAKE
    reason_required: bool = False

    def allows(self, status: Status | None) -> bool:
        return status in self.sources


def _t(action, sources, target, actors, scope=Scope.INTAKE, reason_required=False):
    return Transition(action, frozenset(sources), target, frozenset(actors), scope, reason_required)


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # 统一受理
        _t("submit", [None], S.PENDING_REVIEW, ["public", "citizen", "operator"]),
        _t("register", [None], S.PENDING_DISPATCH, ["operator", "system"]),
        _t("accept", [S.PENDING_REVIEW], S.PENDING_DISPATCH, ["operator"]),
        _t("answer_directly", [None, S.PENDING_REVIEW], S.ANSWERED_DIRECTLY, ["operator"], reason_required=True),
        _t("refuse", [None, S.PENDING_REVIEW], S.NOT_ACCEPTED, ["operator"], reason_required=True),
        _t("transfer_emergency", [None, S.PENDING_REVIEW], S.TRANSFERRED, ["operator"], reason_required=True),
        # 派单
        _t("dispatch", [S.PENDING_DISPATCH], S.DISPATCHED, ["dispatcher", "system"]),
        _t("merge", [S.PENDING_DISPATCH], S.MERGED, ["dispatcher"]),
        # 办理
        _t("sign", [S.DISPATCHED], S.IN_PROGRESS, ["handler"], Scope.LEAD),
        _t(
            "request_return",
            [S.DISPATCHED, S.IN_PROGRESS],
            S.RETURN_REQUESTED,
            ["handler"],
            Scope.LEAD,
            reason_required=True,
        ),
        _t("approve_return", [S.RETURN_REQUESTED], S.PENDING_DISPATCH, ["dispatcher"]),
        _t("reject_return", [S.RETURN_REQUESTED], S.IN_PROGRESS, ["dispatcher"], reason_required=True),
        _t("pass_down", [S.IN_PROGRESS], S.IN_PROGRESS, ["handler"], Scope.LEAD),
        _t("suspend", [S.IN_PROGRESS], S.SUSPENDED, ["supervisor"], Scope.ANY, reason_required=True),
        _t("resume", [S.SUSPENDED], S.IN_PROGRESS, ["supervisor", "system"], Scope.ANY),
        _t("reply", [S.IN_PROGRESS], S.REPLIED, ["handler"], Scope.LEAD),
        # 审核 and 回访
        _t("approve_reply", [S.REPLIED], S.PENDING_CALLBACK, ["dispatcher"]),
        _t("send_back_reply", [S.REPLIED], S.IN_PROGRESS, ["dispatcher"], reason_required=True),
        _t("rate_satisfied", [S.PENDING_CALLBACK], S.CLOSED, ["citizen", "operator"]),
        _t("rate_unsatisfied", [S.PENDING_CALLBACK], S.IN_PROGRESS, ["citizen", "operator"]),
        _t("close_unreached", [S.PENDING_CALLBACK], S.CLOSED, ["system", "operator"]),
        # The caller of a merged appeal rates the master's released answer on their own ticket, which stays merged
        # (docs/architecture.md, "Merged callers").
        _t("rate_merged", [S.MERGED], None, ["citizen", "operator"]),
    ]
}


def transition_for(action: str) -> Transition | None:
    return TRANSITIONS.get(action)


def actions_from(status: Status | None) -> list[Transition]:
    """The transitions possible from ``status``, in table order."""
    return [t for t in TRANSITIONS.values() if t.allows(status)]
