"""The lists of tickets, each read through the one scope rule (``hotline.permissions.in_scope_query``;
docs/security.md, "Scope")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import ColumnElement, Row, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from hotline.accounts.models import Role, User
from hotline.core.live import reused
from hotline.extensions import db
from hotline.notify.models import Notification, NotifyChannel, NotifyStatus
from hotline.orgs.models import OrgUnit
from hotline.orgs.services import subtree_ids
from hotline.permissions import in_scope_query, ticket_scope
from hotline.tickets.counts import final_counts, scope_key
from hotline.tickets.models import Assignment, AssignmentStatus, Category, Reply, ReplyState, Ticket, TicketEvent
from hotline.tickets.workflow import OPEN_STATUSES, RatingChannel, Satisfaction, Status, Urgency


def visible_tickets(user: User) -> Select:
    return in_scope_query(select(Ticket), user)


URGENCY_ORDER = case({"critical": 0, "urgent": 1}, value=Ticket.urgency, else_=2)


def in_status(user: User, status: Status) -> Select:
    return visible_tickets(user).where(Ticket.status == status.value)


def account_appeals(user: User, status: str | None = None, limit: int = 200) -> list[Ticket]:
    """A citizen account's appeals (``permissions.ticket_scope``'s citizen branch), newest first."""
    query = (
        visible_tickets(user)
        .options(joinedload(Ticket.merged_into))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Ticket.status == status)
    return list(db.session.execute(query).scalars())


def callbacks_due(since: datetime) -> ColumnElement:
    """回访: tickets waiting for their callback, and the merged appeals whose callers are still to rate the
    master's answer released since ``since`` (``services.merged_callback_cutoff``): every caller is called back.
    The same rule as ``services.merged_callback_open``, for one master level."""
    master = aliased(Ticket)
    merged_due = (
        select(master.id)
        .where(
            master.id == Ticket.merged_into_id,
            master.answered_at.is_not(None),
            master.answered_at >= since,
            master.status.in_([Status.PENDING_CALLBACK.value, Status.CLOSED.value]),
            or_(Ticket.rated_at.is_(None), Ticket.rated_at < master.answered_at),
        )
        .exists()
    )
    return or_(Ticket.status == Status.PENDING_CALLBACK.value, and_(Ticket.status == Status.MERGED.value, merged_due))


# The SMS that tells a caller their answer is out (tickets.services._approve_reply; with a rating link or not).
RELEASE_SMS_TEMPLATES = ("reply_released", "reply_released_rate")
# The citizen's own doors: a rating that came through one of them needed no call.
CITIZEN_CHANNELS = (RatingChannel.SMS.value, RatingChannel.LINK.value, RatingChannel.WEB.value)
_CITIZEN_RATINGS = (
    Satisfaction.SATISFIED.value,
    Satisfaction.BASICALLY_SATISFIED.value,
    Satisfaction.UNSATISFIED.value,
)


def release_sms_states(ticket_ids: Sequence[int]) -> dict[int, str]:
    """Per ticket, what became of its latest release SMS: ``delivered`` or ``undelivered`` (the provider's
    receipt, or our last attempt failed), else ``sending`` (queued, or sent with no receipt yet). A ticket
    without one is absent. One statement for the whole page, on the index of ``notification.ticket_id``."""
    if not ticket_ids:
        return {}
    rows = db.session.execute(
        select(Notification.ticket_id, Notification.status, Notification.receipt)
        .where(
            Notification.ticket_id.in_(ticket_ids),
            Notification.channel == NotifyChannel.SMS.value,
            Notification.template.in_(RELEASE_SMS_TEMPLATES),
        )
        .order_by(Notification.id)
    ).all()
    states = {}
    for ticket_id, status, receipt in rows:  # in order: the latest release's SMS stays
        if receipt in ("delivered", "undelivered"):
            states[ticket_id] = receipt
        else:
            states[ticket_id] = "undelivered" if status == NotifyStatus.FAILED.value else "sending"
    return states


def rated_without_call(user: User, since: datetime) -> Select:
    """The tickets in ``user``'s scope rated since ``since`` by the citizen (SMS reply, SMS link, tracking
    page), newest rating first: callbacks an operator need not make. ``since`` is the callback window's start
    (``services.merged_callback_cutoff``); ``ix_ticket_rated_at_cover`` finds those few days' ratings."""
    return (
        visible_tickets(user)
        .where(
            Ticket.rated_at >= since,
            Ticket.rated_via.in_(CITIZEN_CHANNELS),
            Ticket.satisfaction.in_(_CITIZEN_RATINGS),
        )
        .order_by(Ticket.rated_at.desc(), Ticket.id.desc())
    )


def rated_without_call_counts(user: User, since: datetime) -> dict[str, int]:
    """``rated_without_call``'s tickets per channel (sms, link, web; 0 when none)."""
    rated = rated_without_call(user, since).order_by(None).subquery()
    counts = dict(
        db.session.execute(select(rated.c.rated_via, func.count()).group_by(rated.c.rated_via)).tuples().all()
    )
    return {channel: counts.get(channel, 0) for channel in CITIZEN_CHANNELS}


def dispatch_queue(user: User, limit: int, offset: int = 0, newest: bool = False) -> list[Ticket]:
    """待派单 from ``offset``: in working order, most urgent first, then oldest first; or newest first. One
    index scan per urgency (ix_ticket_status_urgency_created) instead of sorting every pending ticket (49,000
    at a million); a later page skips whole urgencies by their counts."""
    pending = in_status(user, Status.PENDING_DISPATCH)
    if newest:
        query = pending.order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset(offset).limit(limit)
        return list(db.session.execute(with_list_columns(query)).scalars())
    tickets: list[Ticket] = []
    for urgency in (Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL):
        if len(tickets) >= limit:
            break
        of_urgency = pending.where(Ticket.urgency == urgency.value)
        if offset:
            count = db.session.execute(select(func.count()).select_from(of_urgency.subquery())).scalar_one()
            if offset >= count:
                offset -= count
                continue
        query = of_urgency.order_by(Ticket.created_at, Ticket.id).offset(offset).limit(limit - len(tickets))
        offset = 0
        tickets += db.session.execute(with_list_columns(query)).scalars().all()
    return tickets


DESK_STATUSES = {"pending": Status.PENDING_DISPATCH, "returns": Status.RETURN_REQUESTED, "replies": Status.REPLIED}


def desk_counts(user: User) -> dict[str, int]:
    """The desk's three tab counts, counted now (not the list's reused counts): after an action the tab's
    count must agree with its list. Three statuses on the status index: cheap even at a million tickets."""
    visible = visible_tickets(user).where(Ticket.status.in_([s.value for s in DESK_STATUSES.values()])).subquery()
    counts = dict(db.session.execute(select(visible.c.status, func.count()).group_by(visible.c.status)).tuples().all())
    return {tab: counts.get(status.value, 0) for tab, status in DESK_STATUSES.items()}


_OPEN = [s.value for s in OPEN_STATUSES]


def _count_statuses(user: User) -> dict[str, int]:
    """Open work counted live on the rows of open work, closed work read from the scope's stored counts
    (``tickets.counts``): neither grows with the years of history. A scope that is none of the stored ones (a
    citizen's, roles at two unrelated units) is counted live."""
    key = scope_key(user)
    if key is None:
        visible = visible_tickets(user).subquery()
        rows = db.session.execute(select(visible.c.status, func.count()).group_by(visible.c.status))
        return dict(rows.tuples().all())
    open_work = in_scope_query(
        select(Ticket.status, func.count()).where(Ticket.status.in_(_OPEN)).group_by(Ticket.status),
        user,
        open_work=True,
    )
    return {**dict(db.session.execute(open_work).tuples().all()), **final_counts(key)}


def status_counts(user: User) -> dict[str, int]:
    """Tickets per status in the user's scope, reused for ``TICKET_COUNTS_SECONDS`` by the process (the ticket
    list and the dispatch desk show them on every view)."""
    return reused(
        "ticket_counts",
        "city" if ticket_scope(user) is None else ("user", user.id),
        current_app.config["TICKET_COUNTS_SECONDS"],
        lambda: _count_statuses(user),
    )


# The deadline a workspace row shows and is sorted by: sign-for while waiting to be signed, else the answer.
SHOWN_DEADLINE = case(
    (Ticket.status == Status.DISPATCHED.value, Ticket.sign_deadline_at), else_=Ticket.answer_deadline_at
)
_WAITING_FOR_THE_UNIT = (AssignmentStatus.DISPATCHED.value, AssignmentStatus.SIGNED.value)


def _workspace_parts(user: User) -> tuple[Select[Any], ColumnElement[bool]]:
    """The open tickets at the user's units (on the rows of open work only), and which of them are to do."""
    open_ = [s.value for s in OPEN_STATUSES if s not in (Status.PENDING_REVIEW, Status.PENDING_DISPATCH)]
    at_units = or_(
        false(),
        *[
            Assignment.unit_id.in_(subtree_ids(role.scope_unit))
            for role in user.roles
            if role.role == Role.HANDLER.value
        ],
    )
    to_do = and_(
        Ticket.status.in_([Status.DISPATCHED.value, Status.IN_PROGRESS.value]),
        Ticket.id.in_(
            select(Assignment.ticket_id).where(
                at_units, Assignment.status.in_(_WAITING_FOR_THE_UNIT), Assignment.ticket_open
            )
        ),
    )
    return in_scope_query(select(Ticket), user, open_work=True).where(Ticket.status.in_(open_)), to_do


def workspace(user: User, waiting: bool = False) -> Select:
    """The handler's open tickets, sorted by the deadline the row shows, overdue first (none last).

    To do (``waiting=False``): tickets being handled (dispatched or in progress) where one of the user's units
    has an assignment still to sign or answer. Waiting (``waiting=True``): the rest of the open tickets at the
    user's units: answered and under review, a return or a suspension being decided, the callback, an assist
    part already answered."""
    at_units, to_do = _workspace_parts(user)
    # To do implies the scope (an open assignment of the user's own units, in a status the scope reads):
    # testing the scope as well walked the unit's open work twice.
    chosen = at_units.where(~to_do) if waiting else select(Ticket).where(to_do)
    return chosen.order_by(SHOWN_DEADLINE.is_(None), SHOWN_DEADLINE, URGENCY_ORDER, Ticket.created_at, Ticket.id)


class WorkspacePage(SelectPagination):
    """A page of ``workspace``: the page's ids sorted first, then only those rows loaded with what a row shows
    (joining every open ticket of a busy unit before sorting cost most of the page). Its total is the tab's
    count from ``workspace_counts``, not a second count."""

    def _query_items(self) -> list[Ticket]:
        chosen = self._query_args["select"].with_only_columns(Ticket.id)
        ids = db.session.execute(chosen.limit(self.per_page).offset(self._query_offset)).scalars().all()
        loaded = db.session.execute(with_list_columns(select(Ticket).where(Ticket.id.in_(ids)))).scalars()
        by_id = {ticket.id: ticket for ticket in loaded}
        return [by_id[i] for i in ids]


def workspace_page(user: User, waiting: bool, page: int, per_page: int, total: int) -> WorkspacePage:
    """One page of the handler's to-do (or waiting) tab, by the deadline shown; ``total`` is the tab's count."""
    result = WorkspacePage(
        select=workspace(user, waiting), session=db.session(), page=page, per_page=per_page, count=False
    )
    result.total = total
    return result


def workspace_counts(user: User) -> dict[str, int]:
    """Both tabs' counts in one pass over the units' open work."""
    at_units, to_do = _workspace_parts(user)
    to_do_count, everything = db.session.execute(
        at_units.with_only_columns(func.count().filter(to_do), func.count())
    ).one()
    return {"to_do": to_do_count, "waiting": everything - to_do_count}


_parent_category, _lead_unit = aliased(Category), aliased(OrgUnit)
_LEAD_UNIT_NAMES = (_lead_unit.name.label("lead_unit_name"), _lead_unit.name_en.label("lead_unit_name_en"))
# What a row of the ticket list shows (tickets.ui.ticket_rows), as plain columns.
LIST_ROW = (
    Ticket.id,
    Ticket.tracking_no,
    Ticket.title,
    Ticket.status,
    Ticket.warning_level,
    Ticket.urgency,
    Ticket.appeal_type,
    Ticket.next_deadline_at,
    Ticket.deadline_provisional,
    Ticket.created_at,
    Category.name.label("category_name"),
    Category.name_en.label("category_name_en"),
    _parent_category.name.label("parent_category_name"),
    _parent_category.name_en.label("parent_category_name_en"),
    *_LEAD_UNIT_NAMES,
)


class NewestFirstPage(SelectPagination):
    """A page of ``select`` (tickets), newest first, as plain rows of ``LIST_ROW``. The page's ids come first,
    from the index on (created_at, id) alone; only those rows are then joined to their category and units.
    Joining first would join every ticket skipped by the offset: page 10 joined 500 rows to show 50. Rows, not
    ORM objects: the page only shows them, and building fifty tickets with their category and units took half
    the list's time (bench/README.md)."""

    ORDER = (Ticket.created_at.desc(), Ticket.id.desc())

    def _query_items(self) -> list:
        ids = (
            self._query_args["select"]
            .with_only_columns(Ticket.id)
            .order_by(*self.ORDER)
            .limit(self.per_page)
            .offset(self._query_offset)
            .subquery()
        )
        rows = (
            select(*LIST_ROW)
            .join(ids, Ticket.id == ids.c.id)
            .outerjoin(Category, Category.id == Ticket.category_id)
            .outerjoin(_parent_category, _parent_category.id == Category.parent_id)
            .outerjoin(_lead_unit, _lead_unit.id == Ticket.lead_unit_id)
            .order_by(*self.ORDER)
        )
        return self._query_args["session"].execute(rows).all()


def with_list_columns(query: Select) -> Select:
    """Load what a ticket row shows in the same statement (no query per row): each is many-to-one, so the
    joins keep one row per ticket and cost less than four more round trips."""
    return query.options(
        joinedload(Ticket.category).joinedload(Category.parent),
        joinedload(Ticket.lead_unit),
        joinedload(Ticket.district),
    )


# The desk's review tabs show a card per ticket with two forms: what a card needs, as plain rows.
_REVIEW_ROW = (Ticket.id, Ticket.tracking_no, Ticket.title, Ticket.body, Ticket.version)
_answer_unit = aliased(OrgUnit)


def return_requests(user: User, limit: int, offset: int = 0, newest: bool = False) -> Sequence[Row[Any]]:
    """退单审核: ``limit`` return requests from ``offset``, longest waiting first (or newest first), with the
    lead unit's name and the reason of its latest request (``note``)."""
    note = (
        select(TicketEvent.note)
        .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "request_return")
        .order_by(TicketEvent.id.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    query = (
        in_status(user, Status.RETURN_REQUESTED)
        .with_only_columns(*_REVIEW_ROW, *_LEAD_UNIT_NAMES, note.label("note"))
        .outerjoin(_lead_unit, _lead_unit.id == Ticket.lead_unit_id)
        .order_by(*_waiting_order(newest))
        .offset(offset)
        .limit(limit)
    )
    return db.session.execute(query).all()


def answers_to_review(user: User, limit: int, offset: int = 0, newest: bool = False) -> Sequence[Row[Any]]:
    """答复审核: ``limit`` answered tickets from ``offset``, longest waiting first (or newest first), with the
    latest submitted answer (``answer``, None if there is none) and its unit's name."""
    latest = (
        select(func.max(Reply.id))
        .where(Reply.ticket_id == Ticket.id, Reply.state == ReplyState.SUBMITTED.value)
        .correlate(Ticket)
        .scalar_subquery()
    )
    query = (
        in_status(user, Status.REPLIED)
        .with_only_columns(
            *_REVIEW_ROW,
            Reply.body.label("answer"),
            _answer_unit.name.label("answer_unit_name"),
            _answer_unit.name_en.label("answer_unit_name_en"),
        )
        .outerjoin(Reply, Reply.id == latest)
        .outerjoin(_answer_unit, _answer_unit.id == Reply.unit_id)
        .order_by(*_waiting_order(newest))
        .offset(offset)
        .limit(limit)
    )
    return db.session.execute(query).all()


def _waiting_order(newest: bool) -> tuple:
    # The review tabs wait since their last change (ix_ticket_status_updated); the id breaks ties for paging.
    return (Ticket.updated_at.desc(), Ticket.id.desc()) if newest else (Ticket.updated_at, Ticket.id)
