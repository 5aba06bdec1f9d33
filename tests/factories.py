"""Test data built through the real services: a small city, one user per role, tickets in any state."""

from __future__ import annotations

from types import SimpleNamespace

from hotline.accounts.models import Role
from hotline.accounts.services import create_user
from hotline.extensions import db
from hotline.orgs.models import UnitKind
from hotline.orgs.services import create_unit
from hotline.tickets.models import Category, CategoryRoute
from hotline.tickets.services import AppealInput, CitizenActor, apply_transition, register_ticket

PASSWORD = "correct-horse"
PHONE = "13912345678"

# How to bring a new ticket to each status: (action, who, params) steps.
PATHS = {
    "pending_review": [("submit", "public", {})],
    "pending_dispatch": [("register", "operator", {})],
    "answered_directly": [("answer_directly", "operator", {"note": "已解答"})],
    "not_accepted": [("refuse", "operator", {"note": "属于诉讼事项"})],
    "dispatched": [("register", "operator", {}), ("dispatch", "dispatcher", {"lead_unit": "district"})],
    "in_progress": [
        ("register", "operator", {}),
        ("dispatch", "dispatcher", {"lead_unit": "district"}),
        ("sign", "district_handler", {}),
    ],
    "return_requested": [
        ("register", "operator", {}),
        ("dispatch", "dispatcher", {"lead_unit": "district"}),
        ("request_return", "district_handler", {"note": "不属于本单位职责"}),
    ],
    "suspended": [
        ("register", "operator", {}),
        ("dispatch", "dispatcher", {"lead_unit": "district"}),
        ("sign", "district_handler", {}),
        ("suspend", "supervisor", {"note": "等待检测报告"}),
    ],
    "replied": [
        ("register", "operator", {}),
        ("dispatch", "dispatcher", {"lead_unit": "district"}),
        ("sign", "district_handler", {}),
        ("reply", "district_handler", {"body": "已处理完毕"}),
    ],
    "pending_callback": [
        ("register", "operator", {}),
        ("dispatch", "dispatcher", {"lead_unit": "district"}),
        ("sign", "district_handler", {}),
        ("reply", "district_handler", {"body": "已处理完毕"}),
        ("approve_reply", "dispatcher", {}),
    ],
}
PATHS["closed"] = PATHS["pending_callback"] + [("rate_satisfied", "operator", {"satisfaction": "satisfied"})]


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.city = create_unit("city", "海川市", UnitKind.CITY)
    w.hotline = create_unit("hotline", "12345热线中心", UnitKind.HOTLINE_CENTRE, w.city)
    w.district = create_unit("d1", "东湖区", UnitKind.DISTRICT, w.city)
    w.street = create_unit("d1-s1", "湖滨街道", UnitKind.STREET, w.district)
    w.community = create_unit("d1-s1-c1", "柳岸社区", UnitKind.COMMUNITY, w.street)
    w.other_district = create_unit("d2", "西江区", UnitKind.DISTRICT, w.city)
    w.department = create_unit("d1-housing", "东湖区住房和城乡建设局", UnitKind.DEPARTMENT, w.district)
    w.other_department = create_unit("d2-housing", "西江区住房和城乡建设局", UnitKind.DEPARTMENT, w.other_district)

    def user(name, unit, role, scope=None):
        return create_user(name, PASSWORD, name, org_unit=unit, roles=[(role, scope or unit)])

    w.operator = user("operator", w.hotline, Role.OPERATOR, w.city)
    w.dispatcher = user("dispatcher", w.hotline, Role.DISPATCHER, w.city)
    w.supervisor = user("supervisor", w.hotline, Role.SUPERVISOR, w.city)
    w.admin = user("admin", w.hotline, Role.ADMIN, w.city)
    w.district_handler = user("district_handler", w.district, Role.HANDLER)
    w.street_handler = user("street_handler", w.street, Role.HANDLER)
    w.department_handler = user("department_handler", w.department, Role.HANDLER)
    w.outsider = user("outsider", w.other_district, Role.HANDLER)
    w.citizen_user = user("citizen", w.city, Role.CITIZEN)
    w.public = "public"
    w.citizen = CitizenActor(PHONE)
    w.parent_category = Category(code="05", name="城乡建设与管理")
    w.category = Category(code="0501", name="物业管理", parent=w.parent_category)
    db.session.add_all([w.parent_category, w.category])
    db.session.flush()
    db.session.add(CategoryRoute(category=w.category, district=w.district, unit=w.department))
    db.session.flush()
    w.ticket_in = lambda status, **kw: ticket_in(w, status, **kw)
    return w


def actor(w, who):
    from hotline.tickets.services import PUBLIC

    return PUBLIC if who == "public" else getattr(w, who)


def appeal(w, **overrides) -> AppealInput:
    fields = dict(
        appeal_type="complaint",
        title="小区物业乱收费",
        body="物业费未经业主大会擅自上调。",
        citizen_phone=PHONE,
        citizen_name="张伟",
        category_id=w.category.id,
        district_id=w.district.id,
        address="东湖区人民路1号阳光花园",
    )
    fields.update(overrides)
    return AppealInput(**fields)


def ticket_in(w, status: str, **appeal_overrides):
    """A ticket brought to ``status`` by the actions a real one would take."""
    ticket = None
    for action, who, params in PATHS[status]:
        params = {k: (getattr(w, v) if k == "lead_unit" else v) for k, v in params.items()}
        if ticket is None:
            ticket = register_ticket(appeal(w, **appeal_overrides), actor(w, who), action, note=params.get("note"))
        else:
            ticket = apply_transition(ticket, action, actor(w, who), **params)
    db.session.commit()
    return ticket
