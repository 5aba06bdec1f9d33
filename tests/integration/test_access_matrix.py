"""The access matrix (issue 9): every route × every role → the expected answer.

``MATRIX`` has one row per endpoint of ``app.url_map``; ``BLUEPRINT_DEFAULTS`` covers endpoints that other
work adds to a blueprint whose rule is known (every ``dashboard.*`` page: supervisors and admins only). A
route with neither fails ``test_every_route_has_a_row``, so a new route cannot ship without a decision.

Roles: anonymous; a citizen account; operator, dispatcher, supervisor and admin (hotline centre, city
scope); a handler of the ticket's lead unit (东湖区) and one of another district (西江区). Web routes are
walked with a session cookie, /api routes with that role's bearer token (anonymous: none).

An expectation is an HTTP status, or ``OK_POST`` for state-changing routes walked with an empty body (CSRF
off in testing): the privileged get an answer that is not 401/403/404/5xx (usually 400/422: the body is
empty), everyone else a 4xx (anonymous web: 302 to the sign-in page).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from PIL import Image

from hotline.extensions import db, limiter
from tests.factories import PASSWORD

ROLES = ("anonymous", "citizen", "operator", "dispatcher", "handler_in", "handler_out", "supervisor", "admin")
USERNAMES = {
    "citizen": "citizen",
    "operator": "operator",
    "dispatcher": "dispatcher",
    "handler_in": "district_handler",
    "handler_out": "outsider",
    "supervisor": "supervisor",
    "admin": "admin",
}
HOTLINE = {"operator", "dispatcher", "supervisor", "admin"}
STAFF_AND_CITIZEN = set(ROLES) - {"anonymous"}
LOGIN = "login"  # 302 to the sign-in page
OK_POST = "ok-post"  # privileged: not refused; see the module docstring
PORTAL = "portal"  # 302 to the citizens' portal


@dataclass
class Row:
    """Expected answers for one endpoint: ``get``/``post`` map a role to a status (or LOGIN / OK_POST)."""

    get: dict = field(default_factory=dict)
    post: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # URL values beyond the world's defaults
    query: str = ""  # a query string the page needs


def everyone(code=200) -> dict:
    return {r: code for r in ROLES}


def web(allowed: set, ok=200, denied=403) -> dict:
    """A staff page behind ``permission_required``: anonymous → sign in, ``allowed`` → ok, others → denied."""
    return {r: LOGIN if r == "anonymous" else (ok if r in allowed else denied) for r in ROLES}


def web_post(allowed: set, denied=403) -> dict:
    return web(allowed, ok=OK_POST, denied=denied)


def api(allowed: set, ok=200, denied=403) -> dict:
    return {r: 401 if r == "anonymous" else (ok if r in allowed else denied) for r in ROLES}


def ticket_scoped(allowed: set, ok=200) -> dict:
    """A page of one ticket (in progress at 东湖区): the other district and the citizen account get 404 (its
    existence is not confirmed), roles that see it but may not do this get a 4xx."""
    expected = web(allowed, ok=ok, denied=403)
    expected.update({r: 404 for r in ("handler_out", "citizen") if r not in allowed})
    return expected


ADMIN = {"admin"}
SUPERVISION = {"supervisor", "admin"}
SUPERVISOR = {"supervisor"}
SEES_TICKET = HOTLINE | {"handler_in"}
ASSESSMENT = {"handler_in", "handler_out", "supervisor", "admin"}

OPINION = {"dispatcher", "supervisor"}

INTERVIEW_STAFF = {"handler_in", "supervisor", "admin"}

MATRIX: dict[str, Row] = {
    # --- sign-in, language ----------------------------------------------------------------------------------
    "accounts.login": Row(
        get={r: 200 if r == "anonymous" else 302 for r in ROLES},
        post={r: 200 if r == "anonymous" else 302 for r in ROLES},
    ),
    "accounts.logout": Row(post={r: 302 for r in ROLES}),
    "accounts.set_language": Row(post={r: 302 for r in ROLES}, values={"code": "en"}),
    "accounts.account": Row(get=web(STAFF_AND_CITIZEN)),
    "accounts.change_password": Row(get=web(STAFF_AND_CITIZEN), post=web_post(STAFF_AND_CITIZEN)),
    "accounts.sign_out_everywhere_view": Row(post=web_post(STAFF_AND_CITIZEN)),
    # --- public: the citizen portal, tracking, statistics, FAQ, assets --------------------------------------
    "public.home": Row(get=everyone()),
    "public.new_appeal": Row(get=everyone(), post=everyone(400)),
    "public.submitted": Row(get=everyone(302)),  # nothing submitted in this session: back to the form
    "public.track": Row(get=everyone(), post=everyone(400)),
    "public.tracked": Row(get=everyone(302), post=everyone(302)),  # no phone proven in this session
    "public.tracked_photo": Row(get=everyone(404), values={"attachment_id": 1}),  # not proven: no photo
    "public.rate_link": Row(get=everyone(302)),  # a bad link: to /track
    "public.forgot_number": Row(get=everyone(), post=everyone(400)),
    "public_stats.stats": Row(get=everyone()),
    "faq.faq": Row(get=everyone()),
    "faq.faq_article": Row(get=everyone()),
    "static": Row(get=everyone(), values={"filename": "css/app.css"}),
    "bootstrap.static": Row(get=everyone(), values={"filename": "css/bootstrap.min.css"}),
    "api_docs_assets.swagger_asset": Row(get=everyone(), values={"filename": "swagger-ui.css"}),
    "api-docs.openapi_json": Row(get=everyone()),
    "api-docs.openapi_swagger_ui": Row(get=everyone()),
    "health.healthz": Row(get=everyone()),  # probes: no login, no rate limit (hotline.core.health)
    "health.readyz": Row(get=everyone()),
    # --- staff pages ----------------------------------------------------------------------------------------
    "tickets.index": Row(get={**web(STAFF_AND_CITIZEN), "anonymous": PORTAL}),  # the bare address: the portal
    "tickets.detail": Row(get=ticket_scoped(SEES_TICKET)),
    "tickets.attachment": Row(get=ticket_scoped(SEES_TICKET)),
    "tickets.act": Row(post=ticket_scoped(SEES_TICKET, ok=OK_POST), values={"action": "sign"}),
    "tickets.write": Row(post=ticket_scoped(SEES_TICKET, ok=OK_POST), values={"kind": "note"}),
    # only the hotline sees a caller's full contact: a handler of the unit gets 403
    "tickets.reveal": Row(post={**ticket_scoped(HOTLINE, ok=OK_POST), "handler_in": 403}),
    # no call with that id on the ticket: who may listen learns it is not there; the handling unit may not listen
    "tickets.play_recording": Row(
        post={**ticket_scoped(HOTLINE, ok=404), "handler_in": 403}, values={"call_pk": 999999}
    ),
    "intake.register_call": Row(get=web({"operator"}), post=web_post({"operator"})),
    "intake.caller": Row(get=web({"operator"})),
    "intake.review_queue": Row(get=web({"operator"})),
    "intake.dismiss_sms": Row(post={**web_post({"operator"}), "operator": 404}),  # no such draft
    "cti.stream": Row(get=web({"operator"})),
    "cti.show": Row(get={**web({"operator"}), "operator": 404}),  # no such call of theirs
    # wrap-up of a call without a ticket: operators only (the call's own, can_wrap_up_call); no such call → 404
    "cti.answer_directly": Row(
        get={**web({"operator"}), "operator": 404}, post={**web_post({"operator"}), "operator": 404}
    ),
    "cti.close_call": Row(post={**web_post({"operator"}), "operator": 404}),
    "cti.wrap_up_list": Row(get=web({"operator"})),  # the console's wrap-up section, reloaded by its script
    "queues.dispatch": Row(get=web({"dispatcher"})),
    "queues.workspace": Row(get=web({"handler_in", "handler_out"})),
    "notify.inbox": Row(get=web(STAFF_AND_CITIZEN)),
    "notify.mark_read": Row(post=web_post(STAFF_AND_CITIZEN)),
    "search.results": Row(get=web(STAFF_AND_CITIZEN)),
    "search.assist": Row(get=web({"operator"})),
    "knowledge.index": Row(get=web(HOTLINE)),
    "knowledge.show": Row(get=web(HOTLINE)),
    "knowledge.edit": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "knowledge.change_state": Row(post=web_post(ADMIN), values={"action": "retire"}),
    # --- supervision on a ticket ------------------------------------------------------------------------------
    "sla.urge": Row(post={**ticket_scoped(SUPERVISOR, ok=OK_POST), "handler_out": 403, "citizen": 403}),
    "sla.supervise": Row(post={**ticket_scoped(SUPERVISOR, ok=OK_POST), "handler_out": 403, "citizen": 403}),
    "sla.decide": Row(
        post={**ticket_scoped(SUPERVISOR, ok=OK_POST), "handler_out": 403, "citizen": 403},
        values={"kind": "extension", "decision": "approve"},
    ),
    "sla.requests_queue": Row(get=web(SUPERVISOR)),
    "sla.decide_from_queue": Row(post=web_post(SUPERVISOR), values={"kind": "extension", "decision": "approve"}),
    "sla.respond": Row(post={**web_post({"handler_in"}), "handler_out": 404}, values={"kind": "urging"}),
    "sla.extension": Row(post={**web_post({"handler_in"}), "handler_out": 404}),
    "sla.suspension": Row(post={**web_post({"handler_in"}), "handler_out": 404}),
    # --- accountability cases (责任追究): the case is against 东湖区; another district's handler gets 404 -----
    "accountability.index": Row(get=web(SUPERVISOR | {"handler_in", "handler_out"})),
    "accountability.show": Row(get={**web(SUPERVISOR | {"handler_in", "handler_out"}), "handler_out": 404}),
    "accountability.new": Row(get=web(SUPERVISOR), post=web_post(SUPERVISOR)),
    "accountability.report": Row(post={**web_post({"handler_in", "handler_out"}), "handler_out": 404}),
    "accountability.review": Row(post=web_post(SUPERVISOR)),
    # --- administration ---------------------------------------------------------------------------------------
    "catalogue.routing": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "catalogue.canned": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "catalogue.toggle_canned": Row(post=web_post(ADMIN)),
    "sla.calendar": Row(get=web(ADMIN)),
    "sla.calendar_day": Row(post=web_post(ADMIN)),
    "sla.calendar_import": Row(post=web_post(ADMIN)),
    "sla.policies": Row(get=web(ADMIN)),
    "sla.policy_update": Row(post=web_post(ADMIN)),
    "audit.index": Row(get=web(ADMIN)),
    "admin.users": Row(get=web(ADMIN)),
    "admin.new_user": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.edit_user": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.user_action": Row(post=web_post(ADMIN), values={"action": "unlock"}),
    "admin.reset_password": Row(post=web_post(ADMIN)),
    "admin.units": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.edit_unit": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.move_unit": Row(post=web_post(ADMIN)),
    "admin.unit_action": Row(post=web_post(ADMIN), values={"action": "activate"}),
    "admin.categories": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.edit_category": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.category_action": Row(post=web_post(ADMIN), values={"action": "activate"}),
    "admin.api_key_list": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin.api_keys_old_address": Row(get=web(ADMIN, ok=301)),
    "admin.revoke_api_key": Row(post=web_post(ADMIN)),
    "imports.index": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "imports.apply": Row(post=web_post(ADMIN)),
    "imports.export": Row(get=web(ADMIN), values={"kind": "units", "file_format": "csv"}),
    "dashboard.edit_project": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "dashboard.project": Row(get=web(SUPERVISION), post=web_post(SUPERVISION)),
    "dashboard.export_kpi": Row(get=web(SUPERVISION), values={"file_format": "csv"}),
    "dashboard.export_tickets": Row(get=web(SUPERVISION), values={"file_format": "csv"}, query="board=overdue"),
    "dashboard.tickets": Row(get=web(SUPERVISION), query="board=overdue"),
    # --- the archive of closed tickets: city-wide supervisors and admins read it, admins restore ------------
    "archive.index": Row(get=web(SUPERVISION)),
    "archive.detail": Row(get=web(SUPERVISION)),
    "archive.restore": Row(post=web_post(ADMIN)),  # no confirmation ticked: 400, the ticket stays archived
    # --- 考核: unit assessment (handlers see their own units; admins run periods; supervisors decide objections)
    "assessment.index": Row(get=web(ASSESSMENT)),
    "assessment.period": Row(get=web(ASSESSMENT)),
    "assessment.export": Row(get=web(ASSESSMENT)),
    "assessment.new_period": Row(post=web_post(ADMIN)),
    "assessment.weights": Row(post=web_post(ADMIN)),
    "assessment.change": Row(post=web_post(ADMIN)),
    "assessment.object_to": Row(post=web_post(ASSESSMENT)),
    "assessment.decide": Row(post=web_post(SUPERVISOR)),
    # --- opinion cases (舆情): managed by dispatchers and supervisors; a handler reads the cases its unit leads --
    "opinion.index": Row(get=web(HOTLINE | {"handler_in", "handler_out"})),
    "opinion.new_case": Row(get=web(OPINION), post=web_post(OPINION)),
    "opinion.open_from_hotspot": Row(  # no such hotspot: the managers learn it is gone
        post={**web_post(OPINION), **{r: 404 for r in OPINION}}, values={"alert_id": 999999}
    ),
    "opinion.detail": Row(get={**web(HOTLINE | {"handler_in"}), "handler_out": 404}),
    "opinion.act": Row(post={**web_post(OPINION), "handler_out": 404}, values={"step": "analyse"}),
    "opinion.overview": Row(get=web(SUPERVISION)),
    "opinion_public.public_index": Row(get=everyone()),
    "opinion_public.public_show": Row(get=everyone(404)),  # not published yet
    # --- online interviews (a session at 东湖区's housing bureau): staff manage their units' sessions ---------
    "interviews.index": Row(get=web(INTERVIEW_STAFF | {"handler_out"})),
    "interviews.new": Row(get=web(SUPERVISION), post=web_post(SUPERVISION)),
    "interviews.show": Row(get={**web(INTERVIEW_STAFF), "handler_out": 404}),
    "interviews.act": Row(post={**web_post(INTERVIEW_STAFF), "handler_out": 404}, values={"stage": "start"}),
    "interviews.question": Row(post={**web_post(INTERVIEW_STAFF), "handler_out": 404}, values={"decision": "approve"}),
    "interviews_public.sessions": Row(get=everyone()),
    "interviews_public.session_page": Row(get=everyone(), post=everyone(400)),  # an empty question
    "interviews_public.live": Row(get=everyone()),
    # --- JSON API (bearer token of the role) ----------------------------------------------------------------
    "api.token": Row(post=everyone(422)),
    "api.create_ticket": Row(post={r: 422 for r in ROLES}),
    "api.list_tickets": Row(get=api(STAFF_AND_CITIZEN)),
    "api.ticket_detail": Row(get={**api(SEES_TICKET), "handler_out": 404, "citizen": 404}),
    "api.act": Row(
        post={**api(SEES_TICKET, ok=OK_POST, denied=403), "handler_out": 404, "citizen": 404}, values={"action": "sign"}
    ),
    "api.track": Row(get=everyone(422)),
    "api.cti_events": Row(post=everyone(401)),  # the telephony's key only: no staff token opens it
    "api.sms_receipts": Row(post=everyone(401)),
    "api.sms_inbound": Row(
        post=everyone(401)
    ),  # signed like the receipts  # signed with SMS_WEBHOOK_SECRET only: no token opens it
    "stats_api.overview": Row(get=api(SUPERVISION)),
    "stats_api.units": Row(get=api(SUPERVISION)),
    # --- Open311 (public; partner keys only change the channel) ----------------------------------------------
    "open311.discovery": Row(get=everyone()),
    "open311.services": Row(get=everyone()),
    "open311.service_definition": Row(get=everyone()),
    "open311.list_requests": Row(get=everyone()),
    # a phone-channel ticket is not an Open311 request: not found, whoever asks
    "open311.show_request": Row(get=everyone(404)),
    "open311.show_token": Row(get=everyone(404), values={"token": "no-such-token"}),
    "open311.create_request": Row(post=everyone(403)),  # filing needs a partner's api_key
    # --- 社会监督评议 (hotline.evaluation): admins define; citizen accounts and evaluators answer --------------
    "evaluation.questionnaires": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "evaluation.edit": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "evaluation.change_question": Row(post=web_post(ADMIN)),
    "evaluation.change_status": Row(post=web_post(ADMIN)),  # close a draft: refused, 302
    "evaluation.invite": Row(post=web_post(ADMIN)),  # a draft: refused with a message
    "evaluation.results": Row(get=web(ADMIN)),
    "evaluation.mine": Row(get=web({"citizen"})),  # and evaluators (tests/integration/test_evaluation.py)
    # the questionnaire is a draft: not open, so not found for the citizen too
    "evaluation.answer": Row(get={**web({"citizen"}), "citizen": 404}, post={**web({"citizen"}), "citizen": 404}),
    "evaluation_public.link": Row(get=everyone(404), post=everyone(404)),  # a forged link
    "evaluation_public.published_json": Row(get=everyone()),
}

# Endpoints added later to a known blueprint get its rule until they have their own row.
BLUEPRINT_DEFAULTS: dict[str, Row] = {
    "dashboard": Row(get=web(SUPERVISION), post=web_post(SUPERVISION)),
    "sla": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "catalogue": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "audit": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "admin": Row(get=web(ADMIN), post=web_post(ADMIN)),
    "knowledge": Row(get=web(HOTLINE), post=web_post(ADMIN)),
    "queues": Row(get=web(HOTLINE | {"handler_in", "handler_out"})),
    "stats_api": Row(get=api(SUPERVISION)),
}


def row_for(endpoint: str) -> Row | None:
    if endpoint in MATRIX:
        return MATRIX[endpoint]
    return BLUEPRINT_DEFAULTS.get(endpoint.split(".", 1)[0]) if "." in endpoint else None


# --- the world and its URL values ----------------------------------------------------------------------------


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build_objects(world) -> dict:
    """Real objects for every URL value: a ticket in the handler's subtree, its photo, requests on it…"""
    from hotline.accountability.services import CaseInput, open_case
    from hotline.core.clock import utcnow
    from hotline.core.storage import storage
    from hotline.dashboard.services import save_project
    from hotline.knowledge.services import ArticleInput, change_state, save_article
    from hotline.sla import clock as sla_clock
    from hotline.sla import supervision as sla_supervision
    from hotline.sla.models import SlaPolicy
    from hotline.tickets.models import Attachment, CannedAnswer

    ticket = world.ticket_in("in_progress")
    data = _png()
    photo = Attachment(
        ticket=ticket,
        filename="x.png",
        content_type="image/png",
        size=len(data),
        sha256="0" * 64,
        storage_key=storage().save(data, ".png"),
        created_at=utcnow(),
    )
    db.session.add(photo)
    extension = sla_clock.request_extension(ticket, world.district_handler, utcnow() + timedelta(days=30), "需要检测")
    urging = sla_supervision.urge_ticket(ticket, world.supervisor, "请加快办理")
    order = sla_supervision.issue_supervision_order(ticket, world.supervisor, "请限期办结")
    case = open_case(
        world.supervisor,
        CaseInput(origin="supervision_order", unit=None, findings="督办后仍未办结", measure="interview", order=order),
    )
    article = save_article(ArticleInput(title="低保申请条件", body="户籍、收入、财产三项条件。"), world.admin)
    change_state(article, "publish", world.admin)
    project = save_project(world.admin, year=2026, name="老旧小区改造", public=True)
    canned = CannedAnswer(title="已转交", body="您的诉求已转交相关部门。")
    db.session.add(canned)
    from hotline.api.services import create_api_key

    api_key, _raw = create_api_key("民意网")
    from hotline.assessment.models import AssessmentObjection
    from hotline.assessment.services import create_period

    period = create_period(world.admin, "2026-01")
    objection = AssessmentObjection(
        period_id=period.id,
        unit_id=world.district.id,
        ticket_id=ticket.id,
        reason="非本单位",
        filed_by_id=world.district_handler.id,
    )
    db.session.add(objection)

    from hotline.evaluation.services import add_question, create_questionnaire

    questionnaire = create_questionnaire(world.admin, 2026, "年度社会监督评议")
    question = add_question(world.admin, questionnaire, "总体满意度", "choice")

    from hotline.opinion.services import analyse_case, open_external_case

    opinion_case = open_external_case(
        world.supervisor,
        source="news",
        url="https://news.example.cn/a/1",
        title="小区物业乱收费",
        excerpt=None,
        category_id=world.category.id,
    )
    analyse_case(
        opinion_case,
        world.supervisor,
        level="general",
        lead_unit_id=world.district.id,
        deadline=utcnow().date() + timedelta(days=7),
        analysis="多次投诉",
    )

    from hotline.interviews import services as interviews

    start = utcnow() + timedelta(hours=1)
    interview = interviews.schedule_session(
        interviews.ScheduleInput(
            "interview", "加装电梯", world.department.id, start, start + timedelta(hours=1), "局长"
        ),
        world.supervisor,
    )
    interview_question = interviews.submit_question(interview, "补贴多少？")
    db.session.commit()
    from hotline.archive.services import archive_closed

    archived_no = world.ticket_in("closed").tracking_no  # the world's one closed ticket, archived
    archive_closed(utcnow(), commit=db.session.commit)
    db.session.commit()
    policy = db.session.execute(db.select(SlaPolicy).limit(1)).scalar_one()
    return {
        "tracking_no": ticket.tracking_no,
        "service_request_id": ticket.tracking_no,
        "attachment_id": photo.id,
        "call_pk": 999999,  # no such call on the ticket
        "call_id": "no-such-call",
        "request_id": extension.id,
        "record_id": urging.id,
        "case_id": case.id,
        "article_id": article.id,
        "project_id": project.id,
        "opinion_id": opinion_case.id,
        "alert_id": 999999,  # no such hotspot
        "answer_id": canned.id,
        "policy_id": policy.id,
        "user_id": world.street_handler.id,
        "unit_id": world.community.id,
        "category_id": world.category.id,
        "key_id": api_key.id,
        "year": 2026,
        "fmt": "json",
        "service_code": world.category.code,
        "file_format": "csv",
        "ticket": ticket,
        "sms_id": 1,  # no such SMS draft
        "token": "1.1.1.forged",  # no valid rating link
        "period_id": period.id,
        "objection_id": objection.id,
        "verdict": "reject",  # an objection's decision
        "questionnaire_id": questionnaire.id,
        "question_id": question.id,
        "change": "up",
        "step": "close",  # an assessment period's or a questionnaire's close
        "interview_id": interview.id,
        "interview_question_id": interview_question.id,
        "stage": "start",  # an interview's start / end / publish
        "archived_no": archived_no,
    }


def url_for_rule(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(
            r"<(?:[^<>:]+:)?" + re.escape(name) + r">|<any\([^)]*\):" + re.escape(name) + r">", str(values[name]), path
        )
    assert "<" not in path, path
    return path


class Sessions:
    """One client per role, signed in once (web) and a bearer token (API)."""

    def __init__(self, app):
        self.app = app
        self.clients: dict = {}
        self.tokens: dict = {}

    def client(self, role: str):
        if role not in self.clients:
            client = self.app.test_client()
            if role != "anonymous":
                _forget_cached_user()
                response = client.post("/login", data={"username": USERNAMES[role], "password": PASSWORD})
                assert response.status_code == 302, role
            self.clients[role] = client
        return self.clients[role]

    def fresh(self, role: str):
        self.clients.pop(role, None)
        return self.client(role)

    def headers(self, role: str) -> dict:
        if role == "anonymous":
            return {}
        if role not in self.tokens:
            response = self.app.test_client().post(
                "/api/v1/auth/token", json={"username": USERNAMES[role], "password": PASSWORD}
            )
            assert response.status_code == 200, (role, response.get_json())
            self.tokens[role] = response.get_json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _forget_cached_user():
    """The tests hold an app context, so Flask-Login's per-request user cache (on ``g``) would outlive a
    request: forget it, so each request is seen as its own client's user."""
    from flask import g

    g.pop("_login_user", None)


def _matches(expected, response, method: str) -> bool:
    code = response.status_code
    if code >= 500:
        return False
    if expected == LOGIN:
        return code == 302 and "/login" in response.headers.get("Location", "")
    if expected == PORTAL:
        return code == 302 and response.headers.get("Location", "").endswith("/portal")
    if expected == OK_POST:
        return code not in (401, 403, 404, 405)
    return code == expected


# Routes that end the walking client's session (and, for sign-out-everywhere, its token): walked last-in-line.
SIGNS_OUT = ("accounts.logout", "accounts.sign_out_everywhere_view")


def _walk(app, world, rows) -> list[str]:
    objects = build_objects(world)
    sessions = Sessions(app)
    problems = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
    for rule in rules:
        row = rows(rule.endpoint)
        if row is None:
            continue
        path = url_for_rule(rule, {**objects, **row.values}) + (f"?{row.query}" if row.query else "")
        for method, expectations in (("GET", row.get), ("POST", row.post)):
            if method not in rule.methods:
                assert not expectations or rule.endpoint not in MATRIX, (
                    f"{rule.endpoint} has {method} expectations but no {method} route"
                )
                continue
            assert expectations, f"{rule.endpoint} {rule.rule}: no {method} expectations"
            for role in ROLES:
                if role not in expectations:
                    continue
                api_path = path.startswith("/api/")
                client = (
                    sessions.fresh(role) if rule.endpoint in SIGNS_OUT + ("accounts.login",) else sessions.client(role)
                )
                headers = (
                    sessions.headers(role)
                    if api_path and not path.startswith("/api/v1/docs") and "openapi" not in path
                    else {}
                )
                kwargs = {"json": {}} if api_path and method == "POST" else {"data": {}} if method == "POST" else {}
                _forget_cached_user()
                response = client.open(path, method=method, headers=headers, **kwargs)
                if not _matches(expectations[role], response, method):
                    problems.append(
                        f"{method} {path} [{rule.endpoint}] as {role}: expected {expectations[role]}, "
                        f"got {response.status_code}"
                    )
                if rule.endpoint in SIGNS_OUT:
                    sessions.clients.pop(role, None)
                    sessions.tokens.pop(role, None)  # signing out everywhere ends the role's API token too
    return problems


@pytest.fixture
def no_rate_limits():
    limiter.enabled = False
    yield
    limiter.enabled = True


def test_every_route_has_a_row(app):
    missing = sorted({r.endpoint for r in app.url_map.iter_rules() if row_for(r.endpoint) is None})
    assert not missing, f"routes without a row in the access matrix: {missing}"
    stale = sorted(set(MATRIX) - {r.endpoint for r in app.url_map.iter_rules()})
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_an_unknown_endpoint_has_no_row():
    assert row_for("brand_new.page") is None and row_for("orphan") is None
    assert row_for("dashboard.brand_new_chart").get["supervisor"] == 200


def test_access_matrix(app, world, no_rate_limits):
    problems = _walk(app, world, row_for)
    assert not problems, "\n".join(problems)


def _granted(expected) -> bool:
    return expected in (200, OK_POST)


def test_the_permissions_table_agrees_with_the_predicates_and_the_pages(app, world):
    """``hotline.permissions.TABLE`` is the declared rule: for every role × predicate the predicate answers as
    the table says (roles, then the ticket scope), and every page the table names as guarded by a predicate
    lets in exactly the roles the predicate grants."""
    from hotline import permissions
    from hotline.accounts.models import User
    from hotline.cti.models import Call

    ticket = world.ticket_in("in_progress")
    users = {
        role: db.session.execute(db.select(User).filter_by(username=name)).scalar_one()
        for role, name in USERNAMES.items()
    }
    # a "call"-scoped predicate is asked about the operator's own call (its rule grants operators only)
    call = Call(call_id="table-call", caller="13800138000", operator_id=users["operator"].id, state="ended")
    from hotline.opinion.models import OpinionCase

    case = OpinionCase(source="news", title="x", lead_unit=world.district)  # an "opinion"-scoped rule's case

    # an "interview"-scoped predicate is asked about a session of the ticket's district (handler_in's unit)
    from hotline.interviews.models import InterviewSession

    interview = InterviewSession(topic="t", unit=world.district, guests="g")
    problems = []
    for name, rule in permissions.TABLE.items():
        predicate = getattr(permissions, name)
        for role, user in users.items():
            subject = {"call": call, "unit": ticket.lead_unit, "opinion": case, "interview": interview}.get(
                rule.scope, ticket
            )
            answer = predicate(user, subject) if rule.scope else predicate(user)
            held = {r.role for r in user.roles}
            if rule.roles is not None and answer and not held & rule.roles:
                problems.append(f"{name} grants {role}, whose roles {held} the table does not list")
            if rule.roles is not None and not rule.scope and answer != bool(held & rule.roles):
                problems.append(f"{name} for {role}: {answer}, the table says {not answer}")
            for page in rule.pages:
                row = row_for(page)
                expected = (row.get or row.post).get(role)
                if _granted(expected) != answer:
                    problems.append(f"{name} for {role} is {answer} but {page} answers {expected}")
    assert not problems, "\n".join(problems)
