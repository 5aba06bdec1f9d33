"""A live hotline (SQLite, demo data) served on a local port, and Chromium driven by Playwright."""

import itertools
import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from hotline import create_app
from hotline.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LIVE: dict = {}  # the live server's app, for tests that read what its database holds


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from hotline.demo.seed import seed_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'hotline.db'}"
    # Behind a "proxy" (PROXY_COUNT=1): each browser context below sends its own X-Forwarded-For, so the tests are
    # different citizens to the rate limits instead of one address filing more appeals a minute than one may.
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=True, PROXY_COUNT=1, CTI_STREAM_SECONDS=30
    )
    with app.app_context():
        upgrade()
        seed_demo(ticket_count=80)
        ticket_at_the_housing_bureau(
            "小区物业乱收费（端到端测试）", "物业费擅自上调。", "13700001111", "东湖区人民路8号"
        )
        db.session.commit()
    LIVE["app"] = app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def ticket_at_the_housing_bureau(title: str, body: str, phone: str, address: str, *, signed: bool = False):
    """A ticket dispatched to the ``handler`` demo account's unit (signed for when ``signed``), whatever the
    random demo gave it; the caller commits."""
    from hotline.accounts.services import get_user
    from hotline.orgs.services import get_unit_by_code
    from hotline.tickets.models import Category
    from hotline.tickets.services import AppealInput, apply_transition, register_ticket

    category = db.session.execute(db.select(Category).filter_by(code="0501")).scalar_one()
    appeal = AppealInput(
        appeal_type="complaint",
        title=title,
        body=body,
        citizen_phone=phone,
        category_id=category.id,
        district_id=get_unit_by_code("d1").id,
        address=address,
    )
    ticket = register_ticket(appeal, get_user("operator"), "register")
    apply_transition(ticket, "dispatch", get_user("dispatcher"), lead_unit=get_unit_by_code("d1-housing"))
    if signed:
        apply_transition(ticket, "sign", get_user("handler"))
    return ticket


@pytest.fixture(scope="session")
def telephony_key(live_server):
    """One telephony key and a second operator for the whole run: a channel has one active key."""
    from hotline.accounts.models import Role
    from hotline.accounts.services import create_user, get_user, set_user_extension
    from hotline.api.services import create_api_key
    from hotline.extensions import db
    from hotline.orgs.services import get_unit_by_code

    with LIVE["app"].app_context():
        _, raw = create_api_key("呼叫中心（端到端测试）", kind="cti")
        if get_user("operator2") is None:
            other = create_user(
                "operator2",
                "hotline-demo",
                "话务员 王丽",
                org_unit=get_unit_by_code("hotline"),
                roles=[(Role.OPERATOR, get_unit_by_code("city"))],
            )
            set_user_extension(other, "8002", actor="test")
        db.session.commit()
    return raw


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: apt-get install chromium fonts-noto-cjk", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        open_context, addresses = browser.new_context, itertools.count(1)

        def new_context(**options):
            n = next(addresses)
            headers = {"X-Forwarded-For": f"10.77.{n // 250}.{n % 250 + 1}", **options.pop("extra_http_headers", {})}
            return open_context(extra_http_headers=headers, **options)

        browser.new_context = new_context
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
