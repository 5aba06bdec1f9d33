"""Load N realistic tickets, with their assignments, history, answers and ladder clocks, into PostgreSQL.

    .venv/bin/python bench/generate.py --tickets 1000000 [--database-url URL] [--events-per-ticket 10]
        [--days D] [--seed S] [--keep]

Without ``--database-url`` it creates a scratch database, loads it, prints the figures and drops it
(``--keep`` keeps it and prints its URL). With a URL it migrates that database, seeds the demo city's
units, categories and accounts (``hotline.demo.seed``, no tickets) and appends the tickets.

The demo seed plays every ticket through the real services (milliseconds each); this plays the same
paths (``hotline.demo.seed`` chooses them, with its status weights) in plain Python, mirroring each
action's effects in ``hotline.tickets.services`` and the ladder's clock in ``hotline.sla``, and streams
the rows to PostgreSQL with ``COPY`` (one connection per table, so PostgreSQL parses while Python
generates). Foreign-key triggers are off during the load (``session_replication_role = replica``:
the rows are consistent by construction) and secondary indexes of empty tables are built afterwards.

What holds for every ticket: the status events chain (each ``from_status`` is the previous
``to_status``, the first is NULL) and end at the ticket's status; event times increase with their ids;
deadlines come from the SLA policies and the working-day calendar; ``closed_at`` is set exactly on
final tickets, ``next_deadline_at`` only on open ones (the ladder's next step after now, with the steps
already due taken: yellow/red cards and escalations as events and ``warning_level``); tracking numbers
are ``YYYYMMDD`` + a 6-digit sequence unique per Asia/Shanghai day, and intake continues them
(``daily_sequence``, and the day's own sequence where intake already created it: ``hotline.tickets.tracking``).
Not generated: notifications, supervision orders, extension/suspension requests, attachments, and
the ``merged_in`` event on a merge's master ticket.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import queue
import random
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Progress, psycopg_conninfo, scratch_database  # noqa: E402

TABLES = ("ticket", "assignment", "ticket_event", "reply", "sla_clock")
COLUMNS = {
    "ticket": (
        "id",
        "tracking_no",
        "channel",
        "appeal_type",
        "urgency",
        "category_id",
        "title",
        "body",
        "address",
        "district_id",
        "citizen_name",
        "citizen_phone",
        "citizen_user_id",
        "confidential",
        "allow_publish",
        "status",
        "intake_unit_id",
        "lead_unit_id",
        "created_by_id",
        "sign_deadline_at",
        "answer_deadline_at",
        "deadline_provisional",
        "next_deadline_at",
        "warning_level",
        "escalation_level",
        "suspended_at",
        "merged_into_id",
        "dispatch_count",
        "redo_count",
        "satisfaction",
        "satisfaction_comment",
        "created_at",
        "updated_at",
        "dispatched_at",
        "answered_at",
        "rated_at",
        "closed_at",
        "version",
    ),
    "assignment": (
        "id",
        "ticket_id",
        "unit_id",
        "role",
        "parent_id",
        "status",
        "dispatched_by_id",
        "dispatched_at",
        "signed_at",
        "answered_at",
        "sign_deadline_at",
        "answer_deadline_at",
        "instructions",
        "ticket_open",
    ),
    "ticket_event": (
        "id",
        "ticket_id",
        "action",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_id",
        "unit_id",
        "note",
        "data",
        "public",
        "created_at",
    ),
    "reply": (
        "id",
        "ticket_id",
        "assignment_id",
        "unit_id",
        "author_id",
        "body",
        "state",
        "review_note",
        "reviewed_by_id",
        "submitted_at",
        "reviewed_at",
        "released_at",
    ),
    "sla_clock": ("ticket_id", "kind", "deadline_at", "warn_at", "escalate_at", "stage"),
}
CHUNK = 5000  # tickets per block handed to the COPY writers
DEFAULT_PER_DAY = 8000  # tickets a day when --days is not given (a large city's 12345 line)
# Open work is recent: the demo's mix of statuses holds for the newest RECENT_DAYS of the window; what came
# before is finished (final statuses only), as in a city with years of history, whose open work is weeks deep.
RECENT_DAYS = 30
N = r"\N"
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai has no DST
FINAL = {"answered_directly", "not_accepted", "transferred", "merged", "closed"}
OPEN_HANDLED = {"dispatched", "in_progress", "return_requested", "suspended", "replied", "pending_callback"}
# How old open work is, in days (low, high): waiting to be signed for hours, in hand for weeks.
OPEN_AGE_DAYS = {
    "dispatched": (0.05, 2),
    "in_progress": (0.5, 20),
    "return_requested": (0.5, 5),
    "suspended": (2, 30),
    "replied": (0.5, 8),
    "pending_callback": (0.3, 2.5),
}


def _esc(text: str | None) -> str:
    """A value in COPY's text format."""
    if text is None:
        return N
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _ts(moment: datetime | None) -> str:
    return N if moment is None else moment.isoformat(" ")


def _b(value: bool) -> str:
    return "t" if value else "f"


def _i(value: int | None) -> str:
    return N if value is None else str(value)


def _json(value: dict) -> str:
    return _esc(json.dumps(value, ensure_ascii=False))


# --- the city, its rules and its calendar ------------------------------------------------------------------


class City:
    """What the generator needs from the seeded database, read once."""

    def __init__(self):
        from sqlalchemy import select

        from hotline.accounts.models import User
        from hotline.demo import data
        from hotline.demo.seed import DEMO_ACCOUNTS, FREQUENT_CATEGORIES, OUTCOME_WEIGHTS
        from hotline.extensions import db
        from hotline.orgs.models import OrgUnit
        from hotline.sla import policy as sla
        from hotline.tickets.models import Category, CategoryRoute
        from hotline.tickets.services import PUBLIC_ACTIONS

        self.data, self.sla = data, sla
        self.public_actions = PUBLIC_ACTIONS
        self.outcomes = list(OUTCOME_WEIGHTS)
        self.outcome_weights = list(OUTCOME_WEIGHTS.values())
        units = list(db.session.execute(select(OrgUnit)).scalars())
        self.units = {u.code: u for u in units}
        self.unit_by_id = {u.id: u for u in units}
        self.kind = {u.id: u.kind for u in units}
        self.code = {u.id: u.code for u in units}
        self.hotline = self.units["hotline"].id
        cats = {c.code: c.id for c in db.session.execute(select(Category)).scalars()}
        self.routes = {
            (r.category_id, r.district_id): r.unit_id for r in db.session.execute(select(CategoryRoute)).scalars()
        }
        users = {u.username: u for u in db.session.execute(select(User)).scalars()}
        self.user_unit = {u.id: u.org_unit_id for u in users.values()}
        self.operator, self.dispatcher = users["operator"].id, users["dispatcher"].id
        self.supervisor, self.citizen = users["supervisor"].id, users["citizen"].id
        self.citizen_phone = "13800138000"
        handler_names = {code: name for name, _, code, roles in DEMO_ACCOUNTS if "handler" in roles}
        self.handler = {}
        for u in units:
            name = handler_names.get(u.code, f"h-{u.code}")
            if name in users:
                self.handler[u.id] = users[name].id
        self.appeals = []
        for code, appeal_type, urgency, title, body in data.APPEALS:
            self.appeals.append(
                (cats[code], appeal_type, urgency, _esc(title), body, 3 if code in FREQUENT_CATEGORIES else 1)
            )
        self.consultations = [a for a in self.appeals if a[1] == "consultation"]
        self.appeal_cw = list(itertools.accumulate(a[5] for a in self.appeals))
        self.consultation_cw = list(itertools.accumulate(a[5] for a in self.consultations))
        self.districts = [self.units[f"d{d}"].id for d in range(1, len(data.DISTRICTS) + 1)]
        self.district_depts = {
            self.units[f"d{d}"].id: [
                u.id for u in units if u.parent_id == self.units[f"d{d}"].id and u.kind == "department"
            ]
            for d in range(1, len(data.DISTRICTS) + 1)
        }
        self.policies = {
            (p["appeal_type"], p["urgency"]): p
            for p in (
                dict(appeal_type=a, urgency=u, **sla.policy_for(a, u))
                for a in {x[1] for x in self.appeals}
                for u in ("normal", "urgent", "critical")
            )
        }
        self.calendar = sla.current_calendar()
        self.escalation_days = sla.setting("SLA_ESCALATION_WORKING_DAYS")
        self.callback_days = sla.setting("SLA_CALLBACK_WORKING_DAYS")
        self.day_ends = self.calendar.day_ends
        self._wd: dict = {}
        self._prev_end: dict = {}
        texts = data
        self.notes = [_esc(t) for t in texts.PROGRESS_NOTES]
        self.answers = [_esc(t) for t in texts.ANSWERS]
        self.direct = [_esc(t) for t in texts.DIRECT_ANSWERS]
        self.refusals = [_esc(t) for t in texts.REFUSALS]
        self.emergency = [_esc(t) for t in texts.EMERGENCY_TRANSFERS]
        self.return_reasons = [_esc(t) for t in texts.RETURN_REASONS]
        self.send_back = [_esc(t) for t in texts.SEND_BACK_REASONS]
        self.suspend = [_esc(t) for t in texts.SUSPEND_REASONS]
        self.unsatisfied = [_esc(t) for t in texts.UNSATISFIED_COMMENTS]
        self.reject_return = _esc("经审核，该事项属于你单位职责，退单不予通过。")

    # Working-day arithmetic, memoised by local date: a working-day deadline depends only on it.
    def add_wd(self, start_utc: datetime, n: int) -> tuple[datetime, bool]:
        local_day = (start_utc + LOCAL_OFFSET).date()
        key = (local_day, n)
        hit = self._wd.get(key)
        if hit is None:
            tz = timezone(LOCAL_OFFSET)
            result = self.calendar.add_working_days(datetime.combine(local_day, datetime.min.time(), tz), n)
            hit = self._wd[key] = (result.at.astimezone(UTC).replace(tzinfo=None), result.provisional)
        return hit

    def deadline(self, start: datetime, limit: float, unit: str) -> tuple[datetime, bool]:
        if unit == "hours":
            return start + timedelta(hours=limit), False
        return self.add_wd(start, int(limit))

    def ladder_times(self, limit: float, unit: str, deadline: datetime) -> tuple[datetime, datetime]:
        """(yellow card, escalation) as ``hotline.sla.deadlines.ladder_times`` computes them."""
        if unit == "hours":
            warn = deadline - timedelta(hours=limit / 4)
        else:
            warn = self._prev_end.get(deadline)
            if warn is None:
                local = deadline.replace(tzinfo=UTC).astimezone(timezone(LOCAL_OFFSET))
                warn = self.calendar.previous_working_day_end(local).astimezone(UTC).replace(tzinfo=None)
                self._prev_end[deadline] = warn
        return warn, self.add_wd(deadline, self.escalation_days)[0]


# --- one ticket --------------------------------------------------------------------------------------------


class Loader:
    """Turns outcomes into rows. Ids continue after what the tables hold."""

    def __init__(
        self,
        city: City,
        rng: random.Random,
        now: datetime,
        days: float,
        events_per_ticket: float,
        start_ids: dict,
        sequences: dict,
    ):
        self.city, self.rng, self.now, self.days = city, rng, now, days
        self.next_id = dict(start_ids)
        self.sequences = sequences  # local date → last tracking-number sequence used
        self.open_masters: list[tuple[int, datetime, tuple]] = []
        self.counts: Counter = Counter()
        self.extra_notes = 0.0
        self._calibrate(events_per_ticket)

    def _path(self, outcome: str) -> list[str]:
        from hotline.demo.seed import _DemoTickets

        return _DemoTickets._path(SimpleNamespace(rng=self.rng), outcome)

    def _calibrate(self, target: float) -> None:
        """Extra handler notes on handled tickets bring the mean up to ``target`` events a ticket."""
        probe = random.Random(1)
        saved, self.rng = self.rng, probe
        outcomes = probe.choices(self.city.outcomes, weights=self.city.outcome_weights, k=4000)
        lengths = [len(self._path(o)) + 0.6 for o in outcomes]  # + ladder cards on late work
        handled = sum(1 for o in outcomes if o in OPEN_HANDLED or o == "closed")
        self.rng = saved
        deficit = target * len(outcomes) - sum(lengths)
        self.extra_notes = max(0.0, deficit / max(handled, 1))

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _tracking_no(self, created: datetime) -> str:
        day = (created + LOCAL_OFFSET).date()
        value = self.sequences.get(day, 0) + 1
        if value > 999_999:
            raise RuntimeError(f"more than 999,999 tickets on {day}: use more --days")
        self.sequences[day] = value
        return f"{day:%Y%m%d}{value:06d}"

    def ticket(self, outcome: str, out: dict, *, history: bool = False) -> None:
        """``history``: a final ticket from before the recent RECENT_DAYS."""
        c, rng, r = self.city, self.rng, self.rng.random
        path = self._path(outcome)
        master = None
        if outcome == "merged":
            if self.open_masters:
                master = self.open_masters[rng.randrange(len(self.open_masters))]
            else:
                path, outcome = ["register"], "pending_dispatch"
        # What was asked, where, by whom.
        if master is not None:
            appeal = master[2]
        else:
            pool = c.consultations if outcome == "answered_directly" else c.appeals
            a = rng.choices(pool, cum_weights=c.consultation_cw if pool is c.consultations else c.appeal_cw)[0]
            d = rng.choices((0, 1, 2, 3), cum_weights=(4, 6, 8, 10))[0]
            s, k = rng.choices((1, 2, 3), cum_weights=(3, 4, 5))[0], rng.choices((1, 2), cum_weights=(2, 3))[0]
            community = c.units[f"d{d + 1}-s{s}-c{k}"]
            road, estate = rng.choice(c.data.ROADS), rng.choice(c.data.ESTATES)
            body = _esc(a[4].format(road=road, estate=estate, community=community.name))
            address = _esc(f"{c.data.DISTRICTS[d][0]}{road}{rng.randint(1, 399)}号{estate}")
            appeal = (a[0], a[1], a[2], a[3], body, address, c.districts[d], community.id)
        category_id, appeal_type, urgency, title, body, address, district_id, community_id = appeal
        citizen = r() < 0.04
        phone = c.citizen_phone if citizen else f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"
        name = N if r() < 0.3 else _esc(rng.choice(c.data.SURNAMES) + rng.choice(c.data.GIVEN))
        confidential = appeal_type == "report" and r() < 0.6

        # When: final work anywhere in the window, open work recent; older tickets travelled further.
        now = self.now
        if outcome in ("pending_review", "pending_dispatch"):
            start = now - timedelta(days=rng.uniform(0.01, 1.0))
            span = (now - start) * 0.9
        elif outcome in FINAL:
            start = now - timedelta(days=rng.uniform(RECENT_DAYS if history else 0.05, self.days))
            span = min(now - start, timedelta(days=rng.uniform(0.1, 4.0) * (len(path) / 4 + 0.2))) * 0.95
        else:
            low, high = OPEN_AGE_DAYS[outcome]
            start = now - timedelta(days=min(rng.uniform(low, high), self.days))
            span = (now - start) * rng.uniform(0.6, 0.98)
        if master is not None:
            start = min(max(start, master[1] + timedelta(hours=1)), now - timedelta(minutes=5))
            span = (now - start) * 0.9
        # Handler notes pad the history towards --events-per-ticket.
        if outcome in OPEN_HANDLED or outcome == "closed":
            extra = int(self.extra_notes) + (r() < self.extra_notes % 1)
            if extra and "sign" in path:
                first = path.index("sign") + 1
                last = path.index("reply") if "reply" in path else len(path)
                for _ in range(extra):
                    path.insert(rng.randint(first, last), "note")
        gaps = [rng.uniform(0.05, 1.0) for _ in path]
        total = sum(gaps)
        times, t = [], start
        for gap in gaps:
            times.append(t)
            t += span * (gap / total)

        tid = self._id("ticket")
        T = SimpleNamespace(
            status=None,
            lead_unit=None,
            created_by=N,
            sign_dl=None,
            answer_dl=None,
            provisional=False,
            suspended_at=None,
            dispatch_count=0,
            redo_count=0,
            satisfaction=None,
            sat_comment=N,
            dispatched_at=None,
            answered_at=None,
            rated_at=None,
            closed_at=None,
            merged_into=N,
            channel="phone",
            warning="none",
            escalation=0,
            version=0,
        )
        assignments: list[list] = []  # [id, unit, role, parent, status, by, dispatched, signed, answered, sdl, adl]
        replies: list[list] = []  # [id, assignment, unit, author, body, state, reviewer, submitted, reviewed, released]
        evs: list[tuple] = []  # sorted by time before ids are given: ladder cards land between actions
        clock = None  # (kind, deadline, limit, unit) of the watched deadline, for late cards
        policy = c.policies[(appeal_type, urgency)]

        def event(action, at, frm, to, kind, actor, unit, note=N, data=N):
            evs.append((at, len(evs), action, frm, to, kind, actor, unit, note, data))

        def active():
            return [a for a in assignments if a[4] in ("dispatched", "signed", "answered")]

        def deepest_lead():
            leads = [a for a in active() if a[2] == "lead"]
            return max(leads, key=lambda a: c.unit_by_id[a[1]].depth)

        def late_cards(until: datetime):
            """Ladder cards the sweep gave while ``clock`` ran, up to ``until``; stage reached."""
            nonlocal clock
            if clock is None:
                return 0
            kind, deadline, limit, unit, since = clock
            warn, escalate = c.ladder_times(limit, unit, deadline)
            lead = T.lead_unit
            info = {
                "deadline": (deadline + LOCAL_OFFSET).isoformat() + "+08:00",
                "clock": kind,
                "unit": c.code.get(lead),
            }
            stage = 0
            for name, due, level in (("yellow_card", warn, 1), ("red_card", deadline, 2), ("escalated", escalate, 3)):
                if due > until:
                    break
                data = dict(info)
                if name == "escalated":
                    parent = c.unit_by_id[lead].parent_id if lead else None
                    data.update(level=T.escalation + 1, to_unit=c.code.get(parent))
                    T.escalation += 1
                # A step already due when the clock starts is taken by the next sweep (every 5 minutes).
                event(
                    name,
                    min(max(due, since + timedelta(seconds=rng.uniform(1, 300))), until),
                    None,
                    None,
                    "system",
                    None,
                    None,
                    N,
                    _json(data),
                )
                T.version += 1
                stage = level
            return stage

        def watch(kind, deadline, limit, unit, at):
            """A new watched deadline: cards already due on the old one go into the history first.
            The same deadline watched again keeps its ladder (``refresh_clock``)."""
            nonlocal clock
            if clock is not None and clock[0] == kind and clock[1] == deadline:
                return
            late_cards(at)
            clock = (kind, deadline, limit, unit, at) if deadline is not None else None

        for action, at in zip(path, times):
            status = T.status
            to = status
            note, data, actor, kind = N, N, c.operator, "user"
            if action == "submit":
                to, kind, actor = "pending_review", ("citizen" if citizen else "public"), None
                T.channel = "web" if r() < 0.7 else rng.choice(("wechat", "api", "open311"))
            elif action == "register":
                to, T.created_by = "pending_dispatch", c.operator
                T.channel = "phone" if r() < 0.9 else "wechat"
            elif action in ("answer_directly", "refuse", "transfer_emergency"):
                to = {
                    "answer_directly": "answered_directly",
                    "refuse": "not_accepted",
                    "transfer_emergency": "transferred",
                }[action]
                note = rng.choice(
                    {"answer_directly": c.direct, "refuse": c.refusals, "transfer_emergency": c.emergency}[action]
                )
                T.created_by = c.operator
                T.channel = "phone"
            elif action == "accept":
                to = "pending_dispatch"
            elif action == "dispatch":
                to, actor = "dispatched", c.dispatcher
                lead = c.routes[(category_id, district_id)]
                if T.dispatch_count:  # re-dispatch after a return: the district government takes it
                    lead = district_id
                assist = []
                if r() < 0.15:
                    helpers = [u for u in c.district_depts[district_id] if u != lead]
                    assist = [rng.choice(helpers)]
                T.sign_dl, p1 = c.deadline(at, policy["sign_limit"], policy["sign_unit"])
                T.answer_dl, p2 = c.deadline(at, policy["answer_limit"], policy["answer_unit"])
                T.provisional, T.warning = p1 or p2, "none"
                for unit, role in [(lead, "lead"), *((u, "assist") for u in assist)]:
                    assignments.append(
                        [
                            self._id("assignment"),
                            unit,
                            role,
                            None,
                            "dispatched",
                            c.dispatcher,
                            at,
                            None,
                            None,
                            T.sign_dl,
                            T.answer_dl,
                        ]
                    )
                T.lead_unit, T.dispatched_at = lead, at
                T.dispatch_count += 1
                data = _json({"lead_unit": c.code[lead], "assist_units": [c.code[u] for u in assist]})
                watch("sign", T.sign_dl, policy["sign_limit"], policy["sign_unit"], at)
            elif action == "merge":
                to, actor = "merged", c.dispatcher
                T.merged_into = str(master[0])
                data = _json({"master": master[3]})
            elif action == "note":
                lead = deepest_lead()
                to, actor = None, c.handler[lead[1]]
                note = rng.choice(c.notes)
            elif action == "sign":
                lead = deepest_lead()
                to, actor = "in_progress", c.handler[lead[1]]
                lead[4], lead[7] = "signed", at
                data = f'{{"assignment": {lead[0]}}}'
                watch("answer", T.answer_dl, policy["answer_limit"], policy["answer_unit"], at)
            elif action == "request_return":
                lead = deepest_lead()
                to, actor = "return_requested", c.handler[lead[1]]
                note = rng.choice(c.return_reasons)
            elif action == "approve_return":
                to, actor = "pending_dispatch", c.dispatcher
                for a in active():
                    a[4] = "returned"
                T.lead_unit = T.sign_dl = T.answer_dl = None
                watch(None, None, None, None, at)
            elif action == "reject_return":
                to, actor, note = "in_progress", c.dispatcher, c.reject_return
                for a in active():
                    if a[2] == "lead" and a[7] is None:
                        a[4], a[7] = "signed", at
                watch("answer", T.answer_dl, policy["answer_limit"], policy["answer_unit"], at)
            elif action == "pass_down":
                parent = deepest_lead()
                below = {"district": c.unit_by_id[community_id].parent_id, "street": community_id}.get(
                    c.kind[parent[1]]
                )
                if below is None:
                    continue  # departments keep their work
                actor = c.handler[parent[1]]
                if parent[4] == "dispatched":
                    parent[4], parent[7] = "signed", at
                assignments.append(
                    [
                        self._id("assignment"),
                        below,
                        "lead",
                        parent[0],
                        "dispatched",
                        actor,
                        at,
                        None,
                        None,
                        parent[9],
                        parent[10],
                    ]
                )
                data = _json({"from_unit": c.code[parent[1]], "to_unit": c.code[below]})
            elif action == "suspend":
                to, actor, note = "suspended", c.supervisor, rng.choice(c.suspend)
                T.suspended_at = at
                data = _json({"answer_deadline": T.answer_dl.isoformat() if T.answer_dl else None})
                watch(None, None, None, None, at)
            elif action == "resume":
                to, actor = "in_progress", c.supervisor
                paused = at - T.suspended_at
                old = T.answer_dl
                T.answer_dl = old + paused
                for a in active():
                    if a[10] is not None:
                        a[10] = a[10] + paused
                T.suspended_at = None
                data = _json(
                    {"paused_seconds": int(paused.total_seconds()), "answer_deadline": T.answer_dl.isoformat()}
                )
                watch("answer", T.answer_dl, policy["answer_limit"], policy["answer_unit"], at)
            elif action == "reply":
                lead = deepest_lead()
                to, actor = "replied", c.handler[lead[1]]
                if lead[4] == "dispatched":
                    lead[4], lead[7] = "signed", at
                top = lead
                by_id = {a[0]: a for a in assignments}
                while True:
                    top[4], top[8] = "answered", at
                    if top[3] is None:
                        break
                    top = by_id[top[3]]
                replies.append(
                    [self._id("reply"), top[0], lead[1], actor, rng.choice(c.answers), "submitted", N, at, None, None]
                )
                data = _json({"unit": c.code[lead[1]]})
                watch(None, None, None, None, at)
            elif action in ("approve_reply", "send_back_reply"):
                actor = c.dispatcher
                pending = replies[-1]
                pending[6], pending[8] = str(actor), at
                if action == "approve_reply":
                    to = "pending_callback"
                    pending[5], pending[9] = "approved", at
                    T.answered_at = at
                    cb = c.add_wd(at, c.callback_days)[0]
                    watch("callback", cb, None, None, at)
                else:
                    to, note = "in_progress", rng.choice(c.send_back)
                    pending[5] = "sent_back"
                    for a in active():
                        if a[4] == "answered":
                            a[4] = "signed"
                    watch("answer", T.answer_dl, policy["answer_limit"], policy["answer_unit"], at)
                data = f'{{"reply": {pending[0]}}}'
            elif action in ("rate_satisfied", "rate_unsatisfied", "close_unreached"):
                clock = None  # the callback window closed by the rating
                if action == "close_unreached":
                    to, T.satisfaction = "closed", "not_reached"
                else:
                    if r() < 0.3:
                        kind, actor = "citizen", None
                    T.rated_at = at
                    if action == "rate_satisfied":
                        to = "closed"
                        T.satisfaction = rng.choices(("satisfied", "basically"), weights=(3, 1))[0]
                        data = f'{{"satisfaction": "{T.satisfaction}"}}'
                    else:
                        to, T.satisfaction = "in_progress", "unsatisfied"
                        T.sat_comment = rng.choice(c.unsatisfied)
                        T.redo_count += 1
                        T.answer_dl, T.provisional = c.add_wd(at, 3)
                        T.answered_at = None
                        for a in active():
                            if a[4] == "answered":
                                a[4] = "signed"
                            a[10] = T.answer_dl
                        data = f'{{"satisfaction": "unsatisfied", "redo": {T.redo_count}}}'
                        watch("answer", T.answer_dl, 3, "working_days", at)
            unit = c.user_unit.get(actor) if kind == "user" else None
            event(action, at, None if action == "note" else status, to, kind, actor, unit, note, data)
            T.version += 1
            if to is not None:
                T.status = to
            if to in FINAL and T.closed_at is None:
                T.closed_at = at
            T.updated_at = at

        # The ladder as of now, for open work; its next step is the ticket's next deadline.
        next_deadline = None
        clock_row = None
        if clock is not None and T.status in OPEN_HANDLED:
            kind, deadline, limit, unit, _ = clock
            if kind == "callback":  # pending_callback work is recent: its window is still open
                clock_row, next_deadline = (kind, deadline, None, None, 0), deadline
            else:
                warn, escalate = c.ladder_times(limit, unit, deadline)
                stage = late_cards(now)
                T.warning = {0: "none", 1: "yellow"}.get(stage, "red")
                next_deadline = {0: warn, 1: deadline, 2: escalate}.get(stage)
                clock_row = (kind, deadline, warn, escalate, stage)
        elif T.dispatch_count:  # the clock row stays, pointing at nothing, once no deadline runs
            clock_row = (None, None, None, None, 0)

        public = c.public_actions
        events = out["ticket_event"]
        for at, _, action, frm, to, kind, actor, unit, note, data in sorted(evs, key=lambda e: (e[0], e[1])):
            events.append(
                f"{self._id('ticket_event')}\t{tid}\t{action}\t{frm or N}\t{to or N}\t{kind}\t"
                f"{_i(actor)}\t{_i(unit)}\t{note}\t{data}\t{_b(action in public)}\t{_ts(at)}\n"
            )

        created = times[0]
        tracking = self._tracking_no(created)
        if T.status in ("in_progress", "dispatched", "suspended") and master is None:  # later duplicates merge here
            entry = (tid, created, appeal, tracking)
            if len(self.open_masters) < 2000:
                self.open_masters.append(entry)
            else:
                self.open_masters[rng.randrange(2000)] = entry
        out["ticket"].append(
            "\t".join(
                (
                    str(tid),
                    tracking,
                    T.channel,
                    appeal_type,
                    urgency,
                    str(category_id),
                    title,
                    body,
                    address,
                    str(district_id),
                    name,
                    phone,
                    str(c.citizen) if citizen else N,
                    _b(confidential),
                    _b(r() < 0.5),
                    T.status,
                    str(c.hotline),
                    _i(T.lead_unit),
                    _i(T.created_by) if T.created_by != N else N,
                    _ts(T.sign_dl),
                    _ts(T.answer_dl),
                    _b(T.provisional),
                    _ts(next_deadline),
                    T.warning,
                    str(T.escalation),
                    _ts(T.suspended_at),
                    T.merged_into,
                    str(T.dispatch_count),
                    str(T.redo_count),
                    T.satisfaction or N,
                    T.sat_comment,
                    _ts(created),
                    _ts(T.updated_at),
                    _ts(T.dispatched_at),
                    _ts(T.answered_at),
                    _ts(T.rated_at),
                    _ts(T.closed_at),
                    str(max(T.version, 1)),
                )
            )
            + "\n"
        )
        still_open = "f" if T.status in FINAL else "t"
        for a in assignments:
            out["assignment"].append(
                f"{a[0]}\t{tid}\t{a[1]}\t{a[2]}\t{_i(a[3])}\t{a[4]}\t{_i(a[5])}\t{_ts(a[6])}\t"
                f"{_ts(a[7])}\t{_ts(a[8])}\t{_ts(a[9])}\t{_ts(a[10])}\t{N}\t{still_open}\n"
            )
        for p in replies:
            out["reply"].append(
                f"{p[0]}\t{tid}\t{p[1]}\t{p[2]}\t{p[3]}\t{p[4]}\t{p[5]}\t{N}\t{p[6]}\t{_ts(p[7])}\t"
                f"{_ts(p[8])}\t{_ts(p[9])}\n"
            )
        if clock_row is not None:
            k, dl, w, e, st = clock_row
            out["sla_clock"].append(f"{tid}\t{k or N}\t{_ts(dl)}\t{_ts(w)}\t{_ts(e)}\t{st}\n")
        self.counts[T.status] += 1


# --- loading -----------------------------------------------------------------------------------------------


class CopyWriter(threading.Thread):
    """One connection streaming one table's rows with COPY, fed through a queue."""

    def __init__(self, conninfo: str, table: str):
        super().__init__(daemon=True, name=f"copy-{table}")
        self.conninfo, self.table = conninfo, table
        self.blocks: queue.Queue = queue.Queue(maxsize=8)
        self.rows, self.error = 0, None

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.conninfo) as conn:
                conn.execute("SET session_replication_role = replica")  # no FK triggers: rows are consistent
                conn.execute("SET synchronous_commit = off")
                cols = ", ".join(COLUMNS[self.table])
                with conn.cursor() as cur, cur.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                    while (block := self.blocks.get()) is not None:
                        copy.write("".join(block))
                        self.rows += len(block)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            while self.blocks.get() is not None:  # drain so the producer never blocks
                pass

    def put(self, block: list[str]) -> None:
        if self.error:
            raise RuntimeError(f"COPY into {self.table} failed: {self.error}") from self.error
        self.blocks.put(block)


def _secondary_indexes(conn, tables) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the indexes of ``tables`` that back no constraint."""
    return conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [list(tables)],
    ).fetchall()


def _prepare_app(database_url: str):
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.demo import seed
    from hotline.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade()
        seed.seed_reference_data()
        units = seed._seed_org_tree()
        categories = seed._seed_categories(units)
        seed._seed_accounts(units)
        seed._seed_canned_answers(categories)
        db.session.commit()
    return app


def generate(
    database_url: str,
    tickets: int,
    seed: int = 12345,
    events_per_ticket: float = 10,
    days: float | None = None,
    now: datetime | None = None,
    progress: bool = True,
) -> dict:
    """Migrate and seed ``database_url`` (the demo city, no tickets), then load ``tickets`` tickets.

    Returns the figures: rows per table, seconds, rows/s and the tickets per status.
    """
    import psycopg

    from hotline.core.clock import utcnow
    from hotline.extensions import db

    started = time.perf_counter()
    app = _prepare_app(database_url)
    now = now or utcnow().replace(microsecond=0)
    days = days or max(30.0, tickets / DEFAULT_PER_DAY)
    conninfo = psycopg_conninfo(database_url)
    with app.app_context():
        city = City()
        db.session.remove()
        db.engine.dispose()
    seeded = time.perf_counter()

    with psycopg.connect(conninfo, autocommit=True) as conn:
        start_ids = {
            t: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0]
            for t in TABLES
            if t != "sla_clock"
        }
        empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM ticket)").fetchone()[0]
        sequences = _tracking_sequences(conn)
        dropped = []
        if empty:  # an index built once after the load is much cheaper than one maintained row by row
            dropped = _secondary_indexes(conn, TABLES)
            for name, _ in dropped:
                conn.execute(f'DROP INDEX "{name}"')

    # Millions of small strings and tuples: the cyclic collector would rescan the whole heap over and over.
    gc.collect()
    gc.freeze()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    rng = random.Random(seed)
    loader = Loader(city, rng, now, days, events_per_ticket, start_ids, sequences)
    writers = {t: CopyWriter(conninfo, t) for t in TABLES}
    for w in writers.values():
        w.start()
    bar = Progress(tickets, "generate", enabled=progress)
    # The history before the recent days: final statuses by the demo's weights (merges need an open master).
    recent = tickets if days <= RECENT_DAYS else round(tickets * RECENT_DAYS / days)
    finals = [(o, w) for o, w in zip(city.outcomes, city.outcome_weights, strict=True) if o in FINAL and o != "merged"]
    history = rng.choices([o for o, _ in finals], weights=[w for _, w in finals], k=tickets - recent)
    # The recent days: every status at least once, then by the demo's weights; merges after their masters.
    forced = sorted(city.outcomes, key=lambda o: o == "merged") if recent >= len(city.outcomes) else []
    outcomes = history + forced + rng.choices(city.outcomes, weights=city.outcome_weights, k=recent - len(forced))
    try:
        for offset in range(0, tickets, CHUNK):
            out = {t: [] for t in TABLES}
            for i, outcome in enumerate(outcomes[offset : offset + CHUNK], start=offset):
                loader.ticket(outcome, out, history=i < len(history))
            for t in TABLES:
                writers[t].put(out[t])
            bar.update(min(CHUNK, tickets - offset))
    finally:
        for w in writers.values():
            w.blocks.put(None)
        for w in writers.values():
            w.join()
        bar.close()
        if gc_was_enabled:
            gc.enable()
        gc.unfreeze()
    errors = [f"{t}: {w.error}" for t, w in writers.items() if w.error]
    if errors:
        raise RuntimeError("COPY failed: " + "; ".join(errors))
    loaded = time.perf_counter()

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, ddl in dropped:
            conn.execute(ddl)
        indexed = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO daily_sequence (day, last_value) VALUES (%s, %s)
                               ON CONFLICT (day) DO UPDATE SET last_value = greatest(daily_sequence.last_value,
                                                                                     EXCLUDED.last_value)""",
                sorted(loader.sequences.items()),
            )
        _advance_day_sequences(conn, loader.sequences)
        for t in TABLES:
            if t != "sla_clock":
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT coalesce(max(id), 1) FROM {t}))"
                )
        conn.execute("ANALYZE")
    analyzed = time.perf_counter()
    with app.app_context():  # the stored counts of closed work per scope, from what is now there
        from hotline.tickets import counts

        counts.recount_units()
        db.session.commit()
    finished = time.perf_counter()
    rows = {t: w.rows for t, w in writers.items()}
    total_rows = sum(rows.values())
    return {
        "tickets": tickets,
        "rows": rows,
        "total_rows": total_rows,
        "days": days,
        "seed_s": round(seeded - started, 1),
        "load_s": round(loaded - seeded, 1),
        "index_s": round(indexed - loaded, 1),
        "analyze_s": round(analyzed - indexed, 1),
        "recount_s": round(finished - analyzed, 1),
        "total_s": round(finished - started, 1),
        "rows_per_s": round(total_rows / max(loaded - seeded, 1e-9)),
        "tickets_per_s": round(tickets / max(finished - seeded, 1e-9)),
        "statuses": dict(sorted(loader.counts.items(), key=lambda kv: -kv[1])),
    }


def _tracking_sequences(conn) -> dict:
    """Local date → last tracking-number sequence used: ``daily_sequence`` or, where intake has created
    it, the day's own PostgreSQL sequence (``hotline.tickets.tracking``), whichever is further."""
    from hotline.tickets.tracking import SEQUENCE_LIKE, SEQUENCE_PREFIX

    sequences = dict(conn.execute("SELECT day, last_value FROM daily_sequence").fetchall())
    for name, value in conn.execute(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = "
        "current_schema() AND sequencename LIKE %s",
        [SEQUENCE_LIKE],
    ):
        day = datetime.strptime(name[len(SEQUENCE_PREFIX) :], "%Y%m%d").date()
        sequences[day] = max(sequences.get(day, 0), value or 0)
    return sequences


def _advance_day_sequences(conn, sequences: dict) -> None:
    """A day whose sequence intake already created continues after the loaded numbers; the other days
    start their sequence from ``daily_sequence`` when intake creates it."""
    from hotline.tickets.tracking import sequence_name

    for day, value in sorted(sequences.items()):
        name = sequence_name(day)
        if conn.execute("SELECT to_regclass(%s)", [name]).fetchone()[0] is not None:
            conn.execute(f'SELECT setval(%s, greatest(%s, (SELECT last_value FROM "{name}")))', [name, value])


CHECKS = {
    "status events chain (from_status = the previous to_status, the first from NULL)": """
        SELECT count(*) FROM (
            SELECT from_status, lag(to_status) OVER (PARTITION BY ticket_id ORDER BY id) AS prev,
                   row_number() OVER (PARTITION BY ticket_id ORDER BY id) AS n
            FROM ticket_event WHERE to_status IS NOT NULL) e
        WHERE from_status IS DISTINCT FROM prev""",
    "the last status event ends at the ticket's status": """
        SELECT count(*) FROM ticket t JOIN LATERAL (
            SELECT to_status FROM ticket_event e WHERE e.ticket_id = t.id AND e.to_status IS NOT NULL
            ORDER BY e.id DESC LIMIT 1) last ON true WHERE last.to_status <> t.status""",
    "every ticket has a history": "SELECT count(*) FROM ticket t WHERE NOT EXISTS "
    "(SELECT 1 FROM ticket_event e WHERE e.ticket_id = t.id)",
    "event times increase with their ids": """
        SELECT count(*) FROM (SELECT created_at, lag(created_at) OVER (PARTITION BY ticket_id ORDER BY id) AS prev
                              FROM ticket_event) e WHERE created_at < prev""",
    "the first event is the ticket's creation": """
        SELECT count(*) FROM ticket t JOIN LATERAL (SELECT created_at FROM ticket_event e WHERE e.ticket_id = t.id
                                                    ORDER BY e.id LIMIT 1) f ON true
        WHERE f.created_at <> t.created_at""",
    "closed_at exactly on final tickets": """
        SELECT count(*) FROM ticket WHERE (closed_at IS NOT NULL) <>
            (status IN ('answered_directly', 'not_accepted', 'transferred', 'merged', 'closed'))""",
    "next_deadline_at only on open tickets": """
        SELECT count(*) FROM ticket WHERE next_deadline_at IS NOT NULL
            AND status IN ('answered_directly', 'not_accepted', 'transferred', 'merged', 'closed')""",
    "deadlines on dispatched work": """
        SELECT count(*) FROM ticket WHERE status IN ('dispatched', 'in_progress', 'return_requested', 'replied')
            AND (answer_deadline_at IS NULL OR lead_unit_id IS NULL OR next_deadline_at IS NULL
                 AND status <> 'replied' AND escalation_level = 0)""",
    "tracking numbers are YYYYMMDD (Asia/Shanghai creation day) + 6 digits": """
        SELECT count(*) FROM ticket WHERE tracking_no !~ '^[0-9]{14}$'
            OR left(tracking_no, 8) <> to_char(created_at + interval '8 hours', 'YYYYMMDD')""",
    "the next tracking number continues every day's numbers (daily_sequence or the day's sequence)": """
        SELECT count(*) FROM (SELECT left(tracking_no, 8) AS day, max(right(tracking_no, 6)::int) AS top
                              FROM ticket GROUP BY 1) t
        LEFT JOIN daily_sequence d ON to_char(d.day, 'YYYYMMDD') = t.day
        LEFT JOIN pg_sequences s ON s.schemaname = current_schema() AND s.sequencename = 'tracking_no_' || t.day
        WHERE greatest(d.last_value, s.last_value) IS NULL OR greatest(d.last_value, s.last_value) < t.top""",
    "assignments of final tickets are out of the open work, and only those": """
        SELECT count(*) FROM assignment a JOIN ticket t ON t.id = a.ticket_id
        WHERE a.ticket_open = (t.status IN ('answered_directly', 'not_accepted', 'transferred', 'merged', 'closed'))""",
    "a lead assignment at the ticket's lead unit": """
        SELECT count(*) FROM ticket t WHERE t.lead_unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.ticket_id = t.id AND a.unit_id = t.lead_unit_id
              AND a.role = 'lead' AND a.parent_id IS NULL AND a.status IN ('dispatched', 'signed', 'answered'))""",
    "answered tickets have their approved reply": """
        SELECT count(*) FROM ticket t WHERE (t.answered_at IS NOT NULL OR t.status = 'closed'
                                             AND t.dispatch_count > 0) AND NOT EXISTS (
            SELECT 1 FROM reply r WHERE r.ticket_id = t.id AND r.state = 'approved')""",
    "replied tickets have a reply waiting for review": """
        SELECT count(*) FROM ticket t WHERE t.status = 'replied' AND NOT EXISTS (
            SELECT 1 FROM reply r WHERE r.ticket_id = t.id AND r.state = 'submitted')""",
    "satisfaction only once rated or closed": """
        SELECT count(*) FROM ticket WHERE satisfaction IS NOT NULL AND rated_at IS NULL
            AND NOT (status = 'closed' AND satisfaction = 'not_reached')""",
    "merged tickets point at an open master": """
        SELECT count(*) FROM ticket t WHERE (t.status = 'merged') <> (t.merged_into_id IS NOT NULL)""",
}


def check(database_url: str) -> dict[str, int]:
    """The consistency checks above: {check: offending rows}; all zero on a good load."""
    import psycopg

    with psycopg.connect(psycopg_conninfo(database_url)) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in CHECKS.items()}


def print_report(r: dict) -> None:
    rows = ", ".join(f"{t} {n:,}" for t, n in r["rows"].items())
    print(f"loaded {r['tickets']:,} tickets over {r['days']:.0f} days: {rows}")
    print(
        f"seed {r['seed_s']} s, COPY {r['load_s']} s ({r['rows_per_s']:,} rows/s), indexes {r['index_s']} s, "
        f"analyze {r['analyze_s']} s, counts of closed work {r['recount_s']} s; total {r['total_s']} s ({r['tickets_per_s']:,} tickets/s after the seed)"
    )
    print("statuses: " + ", ".join(f"{s} {n:,}" for s, n in r["statuses"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--database-url", help="SQLAlchemy URL of a PostgreSQL database (default: a scratch one)")
    parser.add_argument("--events-per-ticket", type=float, default=10)
    parser.add_argument(
        "--days", type=float, help=f"days the tickets span (default: tickets / {DEFAULT_PER_DAY}, at least 30)"
    )
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and print its URL")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--check", action="store_true", help="run the consistency checks after loading")
    args = parser.parse_args(argv)
    kwargs = dict(seed=args.seed, events_per_ticket=args.events_per_ticket, days=args.days, progress=not args.quiet)

    def run(url: str) -> int:
        print_report(generate(url, args.tickets, **kwargs))
        if not args.check:
            return 0
        results = check(url)
        bad = {name: n for name, n in results.items() if n}
        for name, n in results.items():
            print(f"check {'FAIL' if n else 'ok  '} {name}" + (f": {n} rows" if n else ""))
        return 1 if bad else 0

    if args.database_url:
        return run(args.database_url)
    with scratch_database("hotline_gen", keep=args.keep) as url:
        return run(url)


if __name__ == "__main__":
    sys.exit(main())
