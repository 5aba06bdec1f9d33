"""Reads for the dashboard, the stats API and the public page: a fixed number of set queries per page.

Period figures come from the rollup tables (``kpi_unit_day``, ``kpi_intake_day``); only what is cheap
is read live: open tickets by status (an index-only count), the warning boards (a partial index) and
project boards. Every function takes the scope unit; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NotRequired, TypedDict

from flask import current_app
from sqlalchemy import Integer, Select, case, cast, func, or_, select, true

from hotline.accounts.models import Role, User, UserRole
from hotline.core import privacy
from hotline.core.clock import LOCAL_TZ, to_utc_naive
from hotline.core.live import reused
from hotline.dashboard import kpis
from hotline.dashboard.models import (
    HotspotAlertRow,
    KpiIntakeDay,
    KpiRollupRun,
    KpiSnapshot,
    KpiUnitDay,
    LivelihoodProject,
    project_ticket,
)
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.orgs.services import subtree_ids
from hotline.tickets.models import Category, Reply, ReplyState, Ticket, WarningLevel
from hotline.tickets.workflow import OPEN_STATUSES, RatingChannel, Satisfaction, Status

DASHBOARD_ROLES = (Role.SUPERVISOR, Role.ADMIN)
OPEN = sorted(s.value for s in OPEN_STATUSES)
MAX_PERIOD_DAYS = 366


# --- scope ---------------------------------------------------------------------------------------------------


def dashboard_scopes(user: User) -> list[OrgUnit]:
    """The units whose subtrees ``user`` may watch (outermost only)."""
    scopes = sorted(user.scopes(*DASHBOARD_ROLES), key=lambda u: u.path)
    outer: list[OrgUnit] = []
    for unit in scopes:
        if not any(o.contains(unit) for o in outer):
            outer.append(unit)
    return outer


def selectable_units(user: User) -> list[OrgUnit]:
    """Units a supervisor can pick: every unit in their scopes, in tree order."""
    conditions = [OrgUnit.path.startswith(s.path) for s in dashboard_scopes(user)]
    if not conditions:
        return []
    return list(
        db.session.execute(
            select(OrgUnit).where(or_(*conditions), OrgUnit.active.is_(True)).order_by(OrgUnit.path)
        ).scalars()
    )


def _is_whole_city(unit: OrgUnit) -> bool:
    return unit.kind == UnitKind.CITY.value


def _tickets_in(unit: OrgUnit):
    """Tickets belonging to ``unit``'s subtree: by territory (district) or by the lead unit."""
    if _is_whole_city(unit):
        return None
    ids = subtree_ids(unit)
    return or_(Ticket.district_id.in_(ids), Ticket.lead_unit_id.in_(ids))


def _intake_in(unit: OrgUnit):
    return None if _is_whole_city(unit) else KpiIntakeDay.district_id.in_(subtree_ids(unit))


def _where(query: Select, condition) -> Select:
    return query if condition is None else query.where(condition)


# --- period figures from the rollups ------------------------------------------------------------------------

_SUMS = [func.coalesce(func.sum(getattr(KpiUnitDay, n)), 0).label(n) for n in kpis.UnitCounts.NUMBERS]


def _counts(row, hists=()) -> kpis.UnitCounts:
    c = kpis.UnitCounts()
    for n in kpis.UnitCounts.NUMBERS:
        setattr(c, n, getattr(row, n) or 0)
    c.sign_hist = kpis.merge_histograms(h[0] for h in hists)
    c.answer_hist = kpis.merge_histograms(h[1] for h in hists)
    return c


def _histograms(column, *conditions) -> dict[int, dict]:
    """Per unit: the day histograms of ``column`` added up by the database (bucket key -> count), one query."""
    pg = db.session.get_bind().dialect.name == "postgresql"
    each = (func.json_each_text if pg else func.json_each)(column).table_valued("key", "value")
    is_object = (func.json_typeof if pg else func.json_type)(column) == "object"  # an empty day holds JSON null
    hists: dict[int, dict] = defaultdict(dict)
    for unit_id, key, n in db.session.execute(
        select(KpiUnitDay.unit_id, each.c.key, func.sum(cast(each.c.value, Integer)))
        .select_from(KpiUnitDay)
        .join(each, true())
        .where(is_object, *conditions)
        .group_by(KpiUnitDay.unit_id, each.c.key)
    ):
        hists[unit_id][str(key)] = int(n)
    return hists


@dataclass
class UnitRow:
    unit: OrgUnit
    counts: kpis.UnitCounts
    figures: dict


def unit_table(scope: OrgUnit, start: date, end: date, weights=None) -> tuple[list[UnitRow], UnitRow]:
    """One row per unit of the subtree with activity in [start, end], tree order, and the total."""
    in_scope = KpiUnitDay.unit_id.in_(subtree_ids(scope))
    period = (KpiUnitDay.day >= start, KpiUnitDay.day <= end)
    sums = db.session.execute(
        select(KpiUnitDay.unit_id, *_SUMS).where(in_scope, *period).group_by(KpiUnitDay.unit_id)
    ).all()
    sign_hists = _histograms(KpiUnitDay.sign_hist, in_scope, *period)
    answer_hists = _histograms(KpiUnitDay.answer_hist, in_scope, *period)
    units = (
        {
            u.id: u
            for u in db.session.execute(select(OrgUnit).where(OrgUnit.id.in_([r.unit_id for r in sums]))).scalars()
        }
        if sums
        else {}
    )
    rows = []
    for r in sums:
        if r.unit_id in units:
            c = _counts(r)
            c.sign_hist, c.answer_hist = sign_hists.get(r.unit_id, {}), answer_hists.get(r.unit_id, {})
            rows.append(UnitRow(units[r.unit_id], c, kpis.figures(c, weights)))
    rows.sort(key=lambda row: row.unit.path)
    total = kpis.UnitCounts.total(row.counts for row in rows)
    return rows, UnitRow(scope, total, kpis.figures(total, weights))


def daily_trend(scope: OrgUnit, start: date, end: date, weights=None) -> list[dict]:
    """Per day: the scope's rates (for the trend lines)."""
    rows = db.session.execute(
        select(KpiUnitDay.day, *_SUMS)
        .where(KpiUnitDay.unit_id.in_(subtree_ids(scope)), KpiUnitDay.day >= start, KpiUnitDay.day <= end)
        .group_by(KpiUnitDay.day)
    ).all()
    by_day = {r.day: kpis.rates(_counts(r), weights) for r in rows}
    empty = dict.fromkeys(kpis.KPI_NAMES)
    return [{"day": d.isoformat(), **by_day.get(d, empty)} for d in _days(start, end)]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def intake_by_channel_day(scope: OrgUnit, start: date, end: date) -> dict:
    rows = db.session.execute(
        _where(
            select(KpiIntakeDay.day, KpiIntakeDay.channel, func.sum(KpiIntakeDay.registered)).where(
                KpiIntakeDay.day >= start, KpiIntakeDay.day <= end
            ),
            _intake_in(scope),
        ).group_by(KpiIntakeDay.day, KpiIntakeDay.channel)
    ).all()
    days = _days(start, end)
    series: dict[str, list[int]] = {}
    index = {d: i for i, d in enumerate(days)}
    for day, channel, n in rows:
        series.setdefault(channel, [0] * len(days))[index[day]] = int(n)
    return {"days": [d.isoformat() for d in days], "series": dict(sorted(series.items()))}


def breakdowns(scope: OrgUnit, start: date, end: date) -> dict[str, list[dict]]:
    """Registrations by first-level category (``"category"``), second-level category (``"subcategory"``) and
    district (``"district"``), largest first, from one grouped read of the intake rollup."""
    rows = db.session.execute(
        _where(
            select(
                KpiIntakeDay.category_id,
                KpiIntakeDay.district_id,
                func.sum(KpiIntakeDay.registered),
                func.sum(KpiIntakeDay.repeat),
            ).where(KpiIntakeDay.day >= start, KpiIntakeDay.day <= end),
            _intake_in(scope),
        ).group_by(KpiIntakeDay.category_id, KpiIntakeDay.district_id)
    ).all()
    categories = _categories()
    names = _unit_names({r[1] for r in rows})
    merged: dict[str, defaultdict[str | None, list[int]]] = {
        by: defaultdict(lambda: [0, 0]) for by in ("category", "subcategory", "district")
    }
    for category_id, district_id, n, rep in rows:
        cat = categories.get(category_id)
        top = categories[cat[2]] if cat is not None and cat[2] is not None else cat  # a parent always exists
        subcategory = None
        if cat is not None and top is not None:
            subcategory = f"{top[1]}/{cat[1]}" if top is not cat else cat[1]
        labels = {
            "category": top[1] if top else None,
            "subcategory": subcategory,
            "district": names.get(district_id),
        }
        for by, label in labels.items():
            merged[by][label][0] += n
            merged[by][label][1] += rep
    return {
        by: sorted(
            ({"name": name, "registered": int(n), "repeat": int(rep)} for name, (n, rep) in items.items()),
            key=lambda r: -r["registered"],
        )
        for by, items in merged.items()
    }


def _categories() -> dict[int, tuple]:
    """Every category as (id, name, parent_id), one query."""
    return {
        row[0]: tuple(row) for row in db.session.execute(select(Category.id, Category.name, Category.parent_id)).all()
    }


def _unit_names(ids: Iterable[int | None]) -> dict[int, str]:
    known = [i for i in ids if i]
    if not known:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(known))).tuples().all())


def rollup_freshness() -> datetime | None:
    return db.session.execute(select(func.max(KpiRollupRun.computed_at))).scalar()


# --- the period's figures as one payload (snapshots) ----------------------------------------------------------


def unit_json(unit: OrgUnit) -> dict:
    return {"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id}


def period_key(scope_id: int, start: date, end: date, weights=None) -> str:
    w = ",".join(f"{k}={v}" for k, v in sorted({**kpis.DEFAULT_SATISFACTION_WEIGHTS, **(weights or {})}.items()))
    return f"period:{scope_id}:{start.isoformat()}:{end.isoformat()}:{w}"


def compute_period(scope: OrgUnit, start: date, end: date, weights=None) -> dict:
    """Everything the dashboard and the stats API show for [start, end] in ``scope``, from the rollups,
    as plain JSON data (what a snapshot holds)."""
    rows, total = unit_table(scope, start, end, weights)
    split = breakdowns(scope, start, end)
    return {
        "rows": [{"unit": {**unit_json(r.unit), "depth": r.unit.depth}, "figures": r.figures} for r in rows],
        "total": total.figures,
        "intake": intake_by_channel_day(scope, start, end),
        "trend": daily_trend(scope, start, end, weights),
        "categories": split["category"],
        "districts": split["district"],
        "subcategories": split["subcategory"][:10],
    }


def _snapshot(key: str, compute):
    snapshot = db.session.get(KpiSnapshot, key)
    return snapshot.payload if snapshot is not None else compute()


def period(scope: OrgUnit, start: date, end: date, weights=None) -> dict:
    """``compute_period``'s payload: the rollup task's snapshot when there is one (one primary-key
    read), else computed now from the rollup rows (the same figures)."""
    return _snapshot(period_key(scope.id, start, end, weights), lambda: compute_period(scope, start, end, weights))


def snapshot_scopes() -> list[OrgUnit]:
    """The units supervisors and admins watch (the dashboard's default scopes)."""
    return list(
        db.session.execute(
            select(OrgUnit)
            .join(UserRole, UserRole.scope_unit_id == OrgUnit.id)
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role.in_([r.value for r in DASHBOARD_ROLES]), User.active.is_(True))
            .distinct()
            .order_by(OrgUnit.path)
        ).scalars()
    )


# --- live reads ---------------------------------------------------------------------------------------------

# The 满意率's channels (workflow.RatingChannel), and "unknown" for ratings from before the channel was kept.
RATING_CHANNELS = (*(c.value for c in RatingChannel), "unknown")
_RATINGS = (Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value, Satisfaction.UNSATISFIED.value)


def rating_channels(scope: OrgUnit, start: date, end: date) -> dict[str, dict[str, int]]:
    """How the period's ratings came, per channel: ``{channel: {satisfied, basically, unsatisfied, total}}``.

    Counted live from the tickets rated in [start, end] (local days) whose lead unit is in ``scope``'s
    subtree, the unit the satisfaction rate counts a rating for; masters only, as the rate (a merged caller's
    rating stays on their ticket). A ticket counts once, with its latest rating: one rated 不满意 and rated
    again after the redo within the period is one here and two in the rate. One grouped read of the period's
    range of ``ix_ticket_rated_at_cover``, from the index alone on PostgreSQL (it carries the columns counted)."""
    lo = to_utc_naive(datetime.combine(start, time.min, tzinfo=LOCAL_TZ))
    hi = to_utc_naive(datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL_TZ))
    rows = db.session.execute(
        select(Ticket.rated_via, Ticket.satisfaction, func.count())
        .where(
            Ticket.rated_at >= lo,
            Ticket.rated_at < hi,
            Ticket.satisfaction.in_(_RATINGS),
            Ticket.status != Status.MERGED.value,
            Ticket.lead_unit_id.in_(subtree_ids(scope)),
        )
        .group_by(Ticket.rated_via, Ticket.satisfaction)
    ).all()
    figures = {channel: dict.fromkeys((*_RATINGS, "total"), 0) for channel in RATING_CHANNELS}
    for via, satisfaction, n in rows:
        counts = figures[via if via in figures else "unknown"]
        counts[satisfaction] += n
        counts["total"] += n
    return figures


LIVE_SECONDS = 15  # how long a process reuses its count of the open tickets (config DASHBOARD_LIVE_SECONDS)


def _open_groups() -> list[tuple]:
    """(status, warning level, district, lead unit, count) over every open ticket: one grouped read of
    ``ix_ticket_open_scope`` (index only), which every scope's counts are added up from. A process reuses
    it for ``DASHBOARD_LIVE_SECONDS`` (counting ~500,000 open tickets takes ~100 ms; the page must not)."""
    return reused(
        "dashboard_open",
        None,
        current_app.config.get("DASHBOARD_LIVE_SECONDS", LIVE_SECONDS),
        lambda: [
            tuple(row)
            for row in db.session.execute(
                select(Ticket.status, Ticket.warning_level, Ticket.district_id, Ticket.lead_unit_id, func.count())
                .where(Ticket.status.in_(OPEN))
                .group_by(Ticket.status, Ticket.warning_level, Ticket.district_id, Ticket.lead_unit_id)
            ).all()
        ],
    )


def _in_scope_groups(scope: OrgUnit) -> list[tuple]:
    groups = _open_groups()
    if _is_whole_city(scope):
        return groups
    ids = set(db.session.execute(subtree_ids(scope)).scalars())
    return [g for g in groups if g[2] in ids or g[3] in ids]


def open_status_counts(scope: OrgUnit) -> dict[str, int]:
    counts = {s.value: 0 for s in Status if s in OPEN_STATUSES}
    for status, _level, _district, _lead, n in _in_scope_groups(scope):
        counts[status] = counts.get(status, 0) + n
    return counts


BOARDS = {"overdue": WarningLevel.RED.value, "yellow": WarningLevel.YELLOW.value}


def board_query(scope: OrgUnit, board: str) -> Select:
    level = BOARDS[board]
    query = (
        select(Ticket)
        .where(Ticket.warning_level == level, Ticket.status.in_(OPEN))
        .order_by(Ticket.answer_deadline_at, Ticket.id)
    )
    return _where(query, _tickets_in(scope))


def board_counts(scope: OrgUnit) -> dict[str, int]:
    """Both boards' counts (open tickets with a red or yellow card), from the same live count."""
    names = {level: name for name, level in BOARDS.items()}
    counts = dict.fromkeys(BOARDS, 0)
    for _status, level, _district, _lead, n in _in_scope_groups(scope):
        if level in names:
            counts[names[level]] += n
    return counts


def board(scope: OrgUnit, board: str, limit: int = 10) -> list[Ticket]:
    from sqlalchemy.orm import joinedload

    return list(
        db.session.execute(
            board_query(scope, board).options(joinedload(Ticket.lead_unit), joinedload(Ticket.category)).limit(limit)
        ).scalars()
    )


def hotspot_alerts(scope: OrgUnit, limit: int = 20) -> list[dict]:
    query = select(HotspotAlertRow).order_by(HotspotAlertRow.ticket_count.desc(), HotspotAlertRow.last_at.desc())
    if not _is_whole_city(scope):
        query = query.where(HotspotAlertRow.district_id.in_(subtree_ids(scope)))
    alerts = list(db.session.execute(query.limit(limit)).scalars())
    categories = (
        dict(
            db.session.execute(
                select(Category.id, Category.name).where(Category.id.in_({a.category_id for a in alerts}))
            )
            .tuples()
            .all()
        )
        if alerts
        else {}
    )
    names = _unit_names({a.district_id for a in alerts})
    return [
        {
            "id": a.id,
            "place": a.place,
            "category": categories.get(a.category_id),
            "count": a.ticket_count,
            "district": names.get(a.district_id),
            "first_at": a.first_at,
            "last_at": a.last_at,
            "ticket_ids": a.ticket_ids,
        }
        for a in alerts
    ]


def hotspot_tickets_query(alert_id: int, scope: OrgUnit) -> Select | None:
    alert = db.session.get(HotspotAlertRow, alert_id)
    if alert is None:
        return None
    return _where(select(Ticket).where(Ticket.id.in_(alert.ticket_ids)).order_by(Ticket.created_at), _tickets_in(scope))


# --- projects -----------------------------------------------------------------------------------------------


def projects(public_only: bool = False, year: int | None = None) -> list[LivelihoodProject]:
    query = (
        select(LivelihoodProject).where(LivelihoodProject.active.is_(True))
        if public_only
        else select(LivelihoodProject)
    )
    if public_only:
        query = query.where(LivelihoodProject.public.is_(True))
    if year:
        query = query.where(LivelihoodProject.year == year)
    return list(db.session.execute(query.order_by(LivelihoodProject.year.desc(), LivelihoodProject.id)).scalars())


class ProjectBoard(TypedDict):
    volume: int
    statuses: dict[str, int]
    open: int
    answered: int
    answered_on_time: int
    on_time_rate: NotRequired[float | None]


def project_boards(project_ids: list[int]) -> dict[int, ProjectBoard]:
    """Per project: volume, tickets by status, answered and answered on time (one grouped query)."""
    boards: dict[int, ProjectBoard] = {
        pid: {"volume": 0, "statuses": {}, "open": 0, "answered": 0, "answered_on_time": 0} for pid in project_ids
    }
    if not project_ids:
        return boards
    on_time = case((Ticket.answered_at <= func.coalesce(Ticket.answer_deadline_at, Ticket.answered_at), 1), else_=0)
    rows = db.session.execute(
        select(
            project_ticket.c.project_id, Ticket.status, func.count(), func.count(Ticket.answered_at), func.sum(on_time)
        )
        .join(Ticket, Ticket.id == project_ticket.c.ticket_id)
        .where(project_ticket.c.project_id.in_(project_ids))
        .group_by(project_ticket.c.project_id, Ticket.status)
    ).all()
    for pid, status, n, answered, in_time in rows:
        b = boards[pid]
        b["volume"] += n
        b["statuses"][status] = n
        b["open"] += n if status in OPEN else 0
        b["answered"] += answered
        b["answered_on_time"] += int(in_time or 0)
    for b in boards.values():
        b["on_time_rate"] = kpis.ratio(b["answered_on_time"], b["answered"])
    return boards


PUBLIC_PROJECTS_KEY = "projects:public"


def public_project_boards(project_ids: list[int]) -> dict[int, ProjectBoard]:
    """``project_boards`` for the public page: from the rollup task's snapshot (up to 5 minutes old, like
    the period figures); a project the snapshot does not hold yet is counted now."""
    snapshot = db.session.get(KpiSnapshot, PUBLIC_PROJECTS_KEY)
    held = snapshot.payload if snapshot is not None else {}
    boards: dict[int, ProjectBoard] = {pid: held[str(pid)] for pid in project_ids if str(pid) in held}
    missing = [pid for pid in project_ids if pid not in boards]
    if missing:
        boards.update(project_boards(missing))
    return boards


def project_tickets_query(project_id: int) -> Select:
    return (
        select(Ticket)
        .join(project_ticket, project_ticket.c.ticket_id == Ticket.id)
        .where(project_ticket.c.project_id == project_id)
        .order_by(Ticket.created_at.desc())
    )


# --- the public page ----------------------------------------------------------------------------------------

PUBLIC_UNIT_KINDS = (UnitKind.DISTRICT.value, UnitKind.DEPARTMENT.value, UnitKind.STREET.value)


def public_unit_month(start: date, end: date, weights=None) -> list[dict]:
    """Per unit that received work in [start, end]: volume, on-time rate, satisfaction."""
    city = (
        db.session.execute(select(OrgUnit).where(OrgUnit.kind == UnitKind.CITY.value).order_by(OrgUnit.id))
        .scalars()
        .first()
    )
    if city is None:
        return []
    rows, _ = unit_table(city, start, end, weights)
    return [
        {
            "unit": r.unit.name,
            "volume": r.counts.dispatched,
            "answered": r.counts.answered,
            "on_time_rate": r.figures["answer_on_time_rate"],
            "rated": r.counts.rated,
            "satisfaction_rate": r.figures["satisfaction_rate"],
        }
        for r in rows
        if r.unit.kind in PUBLIC_UNIT_KINDS and r.counts.dispatched
    ]


def category_trend(months: list[tuple[date, date]]) -> dict:
    """Registrations per first-level category per month."""
    start, end = months[0][0], months[-1][1]
    month_of = sorted((lo, i) for i, (lo, _hi) in enumerate(months))
    rows = db.session.execute(
        select(KpiIntakeDay.day, KpiIntakeDay.category_id, func.sum(KpiIntakeDay.registered))
        .where(KpiIntakeDay.day >= start, KpiIntakeDay.day <= end)
        .group_by(KpiIntakeDay.day, KpiIntakeDay.category_id)
    ).all()
    categories = _categories()
    series: dict[str, list[int]] = {}
    for day, category_id, n in rows:
        cat = categories.get(category_id)
        if cat is None:
            continue
        top = categories[cat[2]] if cat[2] is not None else cat  # a parent always exists
        i = next(i for lo, i in reversed(month_of) if lo <= day)
        series.setdefault(top[1], [0] * len(months))[i] += int(n)
    ordered = dict(sorted(series.items(), key=lambda kv: -sum(kv[1])))
    return {"months": [lo.strftime("%Y-%m") for lo, _ in months], "series": ordered}


def public_key(start: date, end: date, weights=None) -> str:
    return period_key(0, start, end, weights).replace("period:0:", "public:", 1)


def trend_key(months: list[tuple[date, date]]) -> str:
    return f"trend:{months[0][0].isoformat()}:{months[-1][1].isoformat()}:{len(months)}"


def public_month(start: date, end: date, weights=None) -> list[dict]:
    """``public_unit_month`` from the rollup task's snapshot when there is one."""
    return _snapshot(public_key(start, end, weights), lambda: public_unit_month(start, end, weights))


def public_trend(months: list[tuple[date, date]]) -> dict:
    """``category_trend`` from the rollup task's snapshot when there is one."""
    return _snapshot(trend_key(months), lambda: category_trend(months))


def released_answers(limit: int = 10) -> list[dict]:
    """The latest answers released to citizens who allowed publication, personal data removed."""
    rows = db.session.execute(
        select(
            Reply.body,
            Reply.released_at,
            Ticket.title,
            Ticket.citizen_name,
            Ticket.citizen_phone,
            Ticket.address,
            Ticket.created_at,
            Ticket.category_id,
            Ticket.district_id,
        )
        .join(Ticket, Ticket.id == Reply.ticket_id)
        .where(Reply.released_at.isnot(None), Reply.state == ReplyState.APPROVED.value, privacy.publicly_visible())
        .order_by(Reply.released_at.desc())
        .limit(limit)
    ).all()
    categories = (
        dict(
            db.session.execute(select(Category.id, Category.name).where(Category.id.in_({r.category_id for r in rows})))
            .tuples()
            .all()
        )
        if rows
        else {}
    )
    districts = _unit_names({r.district_id for r in rows})
    answers = []
    for r in rows:
        known = dict(names=[r.citizen_name], phones=[r.citizen_phone], addresses=[r.address])
        answers.append(
            {
                "title": privacy.scrub_text(r.title, **known),
                "answer": privacy.scrub_text(r.body, **known),
                "category": categories.get(r.category_id),
                "district": districts.get(r.district_id),
                "filed_on": r.created_at,
                "released_on": r.released_at,
            }
        )
    return answers


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


def last_months(today: date, n: int) -> list[tuple[date, date]]:
    months, y, m = [], today.year, today.month
    for _ in range(n):
        months.append(month_bounds(y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(months))
