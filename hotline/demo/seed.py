"""Load the demo city through the real services, so every ticket's history is consistent.

Tickets are played forward in time with a frozen clock: each one is registered,
dispatched, signed, answered and rated by the accounts that would do it, at
plausible moments over the last six weeks. Deterministic (fixed random seed)
and idempotent: what exists is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from hotline.accounts.models import Role, User
from hotline.accounts.services import create_user, get_user
from hotline.core.clock import frozen_at, utcnow
from hotline.dashboard.demo import seed_demo_dashboard
from hotline.demo import data
from hotline.extensions import db
from hotline.knowledge.services import seed_demo_articles
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.orgs.services import create_unit, get_unit_by_code
from hotline.search.routing import train_routing_model
from hotline.sla.admin import seed_calendar_from_package, seed_default_policies
from hotline.tickets.models import CannedAnswer, Category, CategoryRoute, Ticket
from hotline.tickets.services import AppealInput, CitizenActor, apply_transition, register_ticket
from hotline.tickets.workflow import OPEN_STATUSES, Channel, Status

DEMO_PASSWORD = "hotline-demo"
CITIZEN_PHONE = "13800138000"
DEMO_EXTENSION = "8001"
# username, display name, unit code, roles (scoped to the unit's subtree, or the city for hotline roles)
DEMO_ACCOUNTS = [
    ("admin", "系统管理员", "hotline", ["admin"]),
    ("operator", "话务员 陈晓", "hotline", ["operator"]),
    ("dispatcher", "派单员 林峰", "hotline", ["dispatcher"]),
    ("supervisor", "督办员 周敏", "hotline", ["supervisor"]),
    ("handler", "东湖区住建局 王强", "d1-housing", ["handler"]),
    ("street", "湖滨街道 李娜", "d1-s1", ["handler"]),
    ("district", "东湖区政府 赵军", "d1", ["handler"]),
    ("community", "柳岸社区 刘芳", "d1-s1-c1", ["handler"]),
    ("citizen", "市民 张伟", "city", ["citizen"]),
    ("evaluator", "人大代表 孙丽", "city", ["evaluator"]),
]
HOTLINE_ROLES = {"admin", "operator", "dispatcher", "supervisor", "citizen", "evaluator"}

FREQUENT_CATEGORIES = {"0501", "0404", "0503", "0506", "0101", "0104", "0901", "1101"}
OUTCOME_WEIGHTS = {
    "closed": 42,
    "pending_callback": 8,
    "replied": 5,
    "in_progress": 15,
    "suspended": 1.5,
    "return_requested": 2.5,
    "dispatched": 6,
    "pending_dispatch": 5,
    "pending_review": 4,
    "answered_directly": 7,
    "not_accepted": 2.5,
    "transferred": 1,
    "merged": 2,
}


DEMO_MARKER = "demo.seed"  # the audit action the seed records in a database it filled from empty


def demo_unit_codes() -> set[str]:
    codes = {data.CITY[0], data.HOTLINE[0]} | {f"city-{code}" for code, _n, _e in data.CITY_DEPARTMENTS}
    for d, (_name, _en, streets) in enumerate(data.DISTRICTS, start=1):
        codes |= {f"d{d}"} | {f"d{d}-{code}" for code, _n, _e in data.DISTRICT_DEPARTMENTS}
        for s, (_street, communities) in enumerate(streets, start=1):
            codes |= {f"d{d}-s{s}"} | {f"d{d}-s{s}-c{c}" for c in range(1, len(communities) + 1)}
    return codes


def demo_category_codes() -> set[str]:
    return {code for code, *_rest, children in data.CATEGORIES} | {
        child[0] for *_parent, children in data.CATEGORIES for child in children
    }


def foreign_data() -> dict[str, list[str]]:
    """What the database holds that the demo seed did not make, by kind (org units, users, categories,
    tickets): empty for an empty database and for one the seed filled (it left its marker in the audit
    history, or, from before the marker, it holds every demo account and nothing but demo units, users and
    categories). ``flask seed-demo`` refuses to merge the demo into anything else."""
    from hotline.core.audit import AuditEntry

    if db.session.execute(select(AuditEntry.id).where(AuditEntry.action == DEMO_MARKER).limit(1)).first():
        return {}
    unit_codes, category_codes = demo_unit_codes(), demo_category_codes()
    usernames = {a[0] for a in DEMO_ACCOUNTS} | {f"h-{code}" for code in unit_codes}
    units = list(db.session.execute(select(OrgUnit.code)).scalars())
    users = list(db.session.execute(select(User.username)).scalars())
    categories = list(db.session.execute(select(Category.code)).scalars())
    foreign = {
        "org units": sorted(set(units) - unit_codes),
        "users": sorted(set(users) - usernames),
        "categories": sorted(set(categories) - category_codes),
    }
    if any(foreign.values()):
        return {kind: found for kind, found in foreign.items() if found}
    tickets = list(db.session.execute(select(Ticket.tracking_no).limit(5)).scalars())
    if not (units or users or categories or tickets):
        return {}  # empty: a fresh installation
    if {a[0] for a in DEMO_ACCOUNTS} <= set(users):
        return {}  # seeded before the marker existed
    return {
        kind: found
        for kind, found in (("org units", units), ("users", users), ("categories", categories), ("tickets", tickets))
        if found
    }


def seed_reference_data() -> dict:
    """What every installation needs: the working-day calendar and the default SLA policies."""
    return {"calendar_days": seed_calendar_from_package(), "sla_policies": seed_default_policies()}


def seed_demo(ticket_count: int = 360, seed: int = 12345, *, mark: bool = True) -> str:
    """Load the demo (idempotent). ``mark``: record in the audit history that the demo made this database's
    data (``foreign_data``); not done when the demo was forced into a database that holds other data."""
    from hotline.core.audit import AuditEntry, record_audit

    if mark and not db.session.execute(select(AuditEntry.id).where(AuditEntry.action == DEMO_MARKER)).first():
        record_audit("system", DEMO_MARKER, "database", {"demo": "hotline.demo.seed"})
    reference = seed_reference_data()
    units = _seed_org_tree()
    categories = _seed_categories(units)
    accounts = _seed_accounts(units)
    _seed_canned_answers(categories)
    db.session.flush()
    existing = db.session.execute(select(func.count(Ticket.id))).scalar_one()
    created = 0
    if existing == 0:
        created = _DemoTickets(random.Random(seed), units, categories, accounts).create(ticket_count)
    seed_demo_dashboard()  # key livelihood projects and the KPI rollups of the demo weeks
    seed_demo_articles()  # 政策解读 articles
    if created:
        train_routing_model()  # so the dispatch desk suggests units from the first minute
    lines = [
        f"calendar days added: {reference['calendar_days']}, SLA policies added: {reference['sla_policies']}",
        f"org units: {len(units)}, categories: {len(categories)}",
        f"tickets created: {created} (already present: {existing})",
        f"demo accounts (password {DEMO_PASSWORD}): " + ", ".join(a[0] for a in DEMO_ACCOUNTS),
    ]
    return "\n".join(lines)


# --- org tree, categories, accounts ------------------------------------------------------------------------


def _unit(code, name, kind, parent=None, name_en=None) -> OrgUnit:
    return get_unit_by_code(code) or create_unit(code, name, kind, parent, name_en)


def _seed_org_tree() -> dict[str, OrgUnit]:
    units = {}
    city = units["city"] = _unit(data.CITY[0], data.CITY[1], UnitKind.CITY, name_en=data.CITY[2])
    units["hotline"] = _unit(data.HOTLINE[0], data.HOTLINE[1], UnitKind.HOTLINE_CENTRE, city, data.HOTLINE[2])
    for code, name, name_en in data.CITY_DEPARTMENTS:
        units[f"city-{code}"] = _unit(f"city-{code}", name, UnitKind.DEPARTMENT, city, name_en)
    for d, (district_name, district_en, streets) in enumerate(data.DISTRICTS, start=1):
        district = units[f"d{d}"] = _unit(f"d{d}", district_name, UnitKind.DISTRICT, city, district_en)
        for code, name, name_en in data.DISTRICT_DEPARTMENTS:
            units[f"d{d}-{code}"] = _unit(
                f"d{d}-{code}", district_name + name, UnitKind.DEPARTMENT, district, f"{district_en} {name_en}"
            )
        for s, (street_name, communities) in enumerate(streets, start=1):
            street = units[f"d{d}-s{s}"] = _unit(f"d{d}-s{s}", street_name, UnitKind.STREET, district)
            for c, community_name in enumerate(communities, start=1):
                units[f"d{d}-s{s}-c{c}"] = _unit(f"d{d}-s{s}-c{c}", community_name, UnitKind.COMMUNITY, street)
    return units


def _seed_categories(units: dict[str, OrgUnit]) -> dict[str, Category]:
    existing = {c.code: c for c in db.session.execute(select(Category)).scalars()}
    categories = dict(existing)
    for code, name, name_en, children in data.CATEGORIES:
        parent = categories.get(code) or Category(code=code, name=name, name_en=name_en)
        categories[code] = parent
        db.session.add(parent)
        for child_code, child_name, child_en, route in children:
            if child_code in categories:
                continue
            child = categories[child_code] = Category(code=child_code, name=child_name, name_en=child_en, parent=parent)
            db.session.add(child)
            db.session.flush()
            for d in range(1, len(data.DISTRICTS) + 1):
                target = _route_target(route, d, units)
                db.session.add(CategoryRoute(category=child, district=units[f"d{d}"], unit=target))
    return categories


def _seed_canned_answers(categories: dict[str, Category]) -> None:
    if db.session.execute(select(func.count(CannedAnswer.id))).scalar_one():
        return
    for code, title, body in data.CANNED_ANSWERS:
        db.session.add(CannedAnswer(category=categories[code] if code else None, title=title, body=body))


def _route_target(route: str, district_no: int, units: dict[str, OrgUnit]) -> OrgUnit:
    scope, _, dept = route.partition(":")
    if scope == "city":
        return units[f"city-{dept}"]
    return units[f"d{district_no}-{dept}"] if dept else units[f"d{district_no}"]


def _seed_accounts(units: dict[str, OrgUnit]) -> dict[str, User]:
    accounts = {}
    for username, name, unit_code, roles in DEMO_ACCOUNTS:
        unit = units[unit_code]
        scope = units["city"] if set(roles) <= HOTLINE_ROLES else unit
        accounts[username] = get_user(username) or create_user(
            username,
            DEMO_PASSWORD,
            name,
            org_unit=unit,
            roles=[(Role(r), scope) for r in roles],
            phone=CITIZEN_PHONE if username == "citizen" else None,
        )
        if username == "operator" and accounts[username].extension is None:
            accounts[username].extension = DEMO_EXTENSION  # the screen pop's demo: calls answered at 8001
    # One handler for every other unit that takes tickets, so the demo can play every step.
    for code, unit in units.items():
        if unit.kind in (UnitKind.CITY.value, UnitKind.HOTLINE_CENTRE.value):
            continue
        username = f"h-{code}"
        if not any(a[2] == code and "handler" in a[3] for a in DEMO_ACCOUNTS):
            accounts[username] = get_user(username) or create_user(
                username, DEMO_PASSWORD, f"{unit.name} 承办人", org_unit=unit, roles=[(Role.HANDLER, unit)]
            )
    return accounts


# --- tickets -----------------------------------------------------------------------------------------------


class _DemoTickets:
    def __init__(self, rng: random.Random, units, categories, accounts):
        self.rng, self.units, self.categories, self.accounts = rng, units, categories, accounts
        self.now = utcnow()
        self.handlers = {
            u.org_unit_id: u
            for u in accounts.values()
            if u.has_role(Role.HANDLER) and u.scopes(Role.HANDLER)[0].id == u.org_unit_id
        }
        self.routes = {
            (r.category_id, r.district_id): r.unit for r in db.session.execute(select(CategoryRoute)).scalars()
        }

    def create(self, count: int) -> int:
        outcomes = list(OUTCOME_WEIGHTS)  # every status at least once, then by weight
        outcomes += self.rng.choices(outcomes, weights=list(OUTCOME_WEIGHTS.values()), k=max(0, count - len(outcomes)))
        outcomes.sort(key=lambda o: o == "merged")  # masters exist before duplicates are merged into them
        for outcome in outcomes:
            self._create_one(outcome)
        return len(outcomes)

    # The path of actions that brings a ticket to ``outcome``, with the detours real tickets take.
    def _path(self, outcome: str) -> list[str]:
        r = self.rng.random
        if outcome == "pending_review":
            return ["submit"]
        if outcome == "pending_dispatch":
            return ["submit", "accept"] if r() < 0.3 else ["register"]
        if outcome in ("answered_directly", "not_accepted", "transferred"):
            return [
                {"answered_directly": "answer_directly", "not_accepted": "refuse", "transferred": "transfer_emergency"}[
                    outcome
                ]
            ]
        if outcome == "merged":
            return ["register", "merge"]
        path = ["submit", "accept"] if r() < 0.2 else ["register"]
        path.append("dispatch")
        if outcome == "dispatched":
            return path
        if r() < 0.12:
            path += ["request_return", "approve_return", "dispatch"]
        if outcome == "return_requested":
            return path + ["request_return"]
        path.append("sign")
        if r() < 0.06:
            path += ["request_return", "reject_return"]
        path += ["pass_down"] * (r() < 0.8) + ["pass_down"] * (r() < 0.5)  # district → street → community
        path += ["note"] if r() < 0.4 else []
        if outcome == "suspended":
            return path + ["suspend"]
        if r() < 0.05:
            path += ["suspend", "resume"]
        if outcome == "in_progress":
            return path
        path.append("reply")
        if r() < 0.1:
            path += ["send_back_reply", "reply"]
        if outcome == "replied":
            return path
        path.append("approve_reply")
        if outcome == "pending_callback":
            return path
        if r() < 0.08:
            path += ["rate_unsatisfied", "reply", "approve_reply"]
        return path + (["close_unreached"] if r() < 0.08 else ["rate_satisfied"])

    def _appeal(self, outcome: str) -> tuple[AppealInput, OrgUnit]:
        rng = self.rng
        choices = data.APPEALS
        if outcome == "answered_directly":
            choices = [a for a in data.APPEALS if a[1] == "consultation"]
        # Everyday matters (property, noise, street-level work) dominate a real hotline's queue.
        weights = [3 if a[0] in FREQUENT_CATEGORIES else 1 for a in choices]
        code, appeal_type, urgency, title, body = rng.choices(choices, weights=weights)[0]
        # The demo accounts sit in 东湖区 / 湖滨街道 / 柳岸社区: give them a busy share of the work.
        d = rng.choices(range(1, len(data.DISTRICTS) + 1), weights=[4, 2, 2, 2])[0]
        s, c = rng.choices([1, 2, 3], weights=[3, 1, 1])[0], rng.choices([1, 2], weights=[2, 1])[0]
        community = self.units[f"d{d}-s{s}-c{c}"]
        road, estate = rng.choice(data.ROADS), rng.choice(data.ESTATES)
        citizen = rng.random() < 0.04
        phone = CITIZEN_PHONE if citizen else f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
        name = None if rng.random() < 0.3 else rng.choice(data.SURNAMES) + rng.choice(data.GIVEN)
        appeal = AppealInput(
            appeal_type=appeal_type,
            urgency=urgency,
            title=title,
            body=body.format(road=road, estate=estate, community=community.name),
            citizen_phone=phone,
            citizen_name=name,
            category_id=self.categories[code].id,
            district_id=self.units[f"d{d}"].id,
            address=f"{data.DISTRICTS[d - 1][0]}{road}{rng.randint(1, 399)}号{estate}",
            confidential=appeal_type == "report" and rng.random() < 0.6,
            allow_publish=rng.random() < 0.5,
            citizen_user_id=self.accounts["citizen"].id if citizen else None,
        )
        return appeal, community

    def _create_one(self, outcome: str) -> None:
        rng = self.rng
        path = self._path(outcome)
        appeal, community = self._appeal(outcome)
        master = None
        if outcome == "merged":
            master = self._pick_master()
            if master is None:
                path = ["register"]
            else:
                for name in ("category_id", "district_id", "title", "body", "address"):
                    setattr(appeal, name, getattr(master, name))
        # Older tickets have travelled further; urgent ones move in hours.
        age_days = (
            rng.uniform(0.05, 1.0)
            if outcome in ("pending_review", "pending_dispatch")
            else rng.uniform(0.5, 40) * (len(path) / 8 + 0.3)
        )
        start = self.now - timedelta(days=min(age_days, 44))
        if master is not None:
            start = max(start, master.created_at + timedelta(hours=1))
        gaps = [rng.uniform(0.05, 1.0) for _ in path]
        budget = (self.now - start) * 0.9
        step_times, t = [], start
        for gap in gaps:
            step_times.append(t)
            t += budget * (gap / sum(gaps))
        ticket = None
        channel = Channel.WEB.value if path[0] == "submit" else Channel.PHONE.value
        appeal.channel = channel if rng.random() < 0.9 or channel == Channel.WEB.value else Channel.WECHAT.value
        for action, moment in zip(path, step_times):
            with frozen_at(moment):
                ticket = self._play(ticket, action, appeal, community, master)

    def _pick_master(self) -> Ticket | None:
        open_ = [s.value for s in OPEN_STATUSES if s not in (Status.PENDING_REVIEW, Status.PENDING_DISPATCH)]
        candidates = list(db.session.execute(select(Ticket).where(Ticket.status.in_(open_)).limit(50)).scalars())
        return self.rng.choice(candidates) if candidates else None

    def _handler(self, unit: OrgUnit) -> User:
        return self.handlers[unit.id]

    def _deepest_lead(self, ticket: Ticket) -> OrgUnit:
        leads = [a for a in ticket.active_assignments() if a.role == "lead"]
        return max(leads, key=lambda a: a.unit.depth).unit

    def _play(
        self, ticket: Ticket | None, action: str, appeal: AppealInput, community: OrgUnit, master: Ticket | None
    ) -> Ticket:
        rng, acc = self.rng, self.accounts
        if action == "submit":
            return register_ticket(appeal, CitizenActor(appeal.citizen_phone), "submit")
        if action in ("register", "answer_directly", "refuse", "transfer_emergency"):
            note = {
                "answer_directly": rng.choice(data.DIRECT_ANSWERS),
                "refuse": rng.choice(data.REFUSALS),
                "transfer_emergency": rng.choice(data.EMERGENCY_TRANSFERS),
            }.get(action)
            return register_ticket(appeal, acc["operator"], action, note=note)
        if ticket is None:
            raise ValueError(f"the demo script plays {action} before the ticket is registered")
        if action == "note":
            from hotline.tickets.services import record_event

            record_event(
                ticket, "note", self._handler(self._deepest_lead(ticket)), note=rng.choice(data.PROGRESS_NOTES)
            )
            return ticket
        actor: User | CitizenActor = acc["dispatcher"]
        params: dict[str, Any] = {}  # apply_transition's keyword arguments
        if action == "accept":
            actor = acc["operator"]
        elif action == "dispatch":
            if ticket.category_id is None or ticket.district_id is None:
                raise ValueError("a demo ticket is routed by its category and district")
            lead = self.routes[(ticket.category_id, ticket.district_id)]
            if ticket.dispatch_count:  # re-dispatch after a return: the district government takes it
                lead = self.units[f"d{_district_no(ticket, self.units)}"]
            params["lead_unit"] = lead
            if rng.random() < 0.15:
                district = community.parent.parent if community.parent else None
                if district is None:
                    raise ValueError(f"the demo community {community.code} is not in a street of a district")
                helpers = [u for u in district.children if u.kind == UnitKind.DEPARTMENT.value and u.id != lead.id]
                params["assist_units"] = [rng.choice(helpers)]
        elif action == "merge":
            params["master"] = master
        elif action in ("sign", "request_return", "reply"):
            actor = self._handler(self._deepest_lead(ticket))
            if action == "request_return":
                params["note"] = rng.choice(data.RETURN_REASONS)
            if action == "reply":
                params["body"] = rng.choice(data.ANSWERS)
        elif action == "pass_down":
            lead = self._deepest_lead(ticket)
            below = {UnitKind.DISTRICT.value: community.parent, UnitKind.STREET.value: community}.get(lead.kind)
            if below is None:
                return ticket  # departments keep their work
            actor, params["unit"] = self._handler(lead), below
        elif action in ("reject_return", "send_back_reply"):
            params["note"] = rng.choice(
                data.SEND_BACK_REASONS
                if action == "send_back_reply"
                else ["经审核，该事项属于你单位职责，退单不予通过。"]
            )
        elif action in ("suspend", "resume"):
            actor = acc["supervisor"]
            params["note"] = rng.choice(data.SUSPEND_REASONS) if action == "suspend" else None
        elif action in ("rate_satisfied", "rate_unsatisfied", "close_unreached"):
            # A citizen's own rating came by the tracking page, the SMS's link or a reply (not drawn from rng:
            # the demo's other draws stay as they were).
            via = ("web", "link", "sms")[(ticket.id or 0) % 3]
            actor = CitizenActor(ticket.citizen_phone, via=via) if rng.random() < 0.3 else acc["operator"]
            if action == "close_unreached":
                actor = acc["operator"]
            if action == "rate_satisfied":
                params["satisfaction"] = rng.choices(["satisfied", "basically"], weights=[3, 1])[0]
            if action == "rate_unsatisfied":
                params["comment"] = rng.choice(data.UNSATISFIED_COMMENTS)
        return apply_transition(ticket, action, actor, **params)


def _district_no(ticket: Ticket, units: dict[str, OrgUnit]) -> int:
    return next(int(code[1:]) for code, u in units.items() if u.id == ticket.district_id and code[1:].isdigit())
