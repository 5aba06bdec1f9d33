"""Issue 28.6: while the database cannot be reached, every page and API answers 503 with Retry-After, and the
error page is drawn without touching the database (before, signed-in users got gunicorn's bare 500)."""

import pytest

from hotline import create_app
from hotline.extensions import db

# Port 9 (discard) on loopback: nothing listens, so every connection is refused at once.
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/hotline?connect_timeout=2"


@pytest.fixture
def down():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=DEAD_DATABASE, SECRET_KEY="database-down-test")
    with app.app_context():
        yield app
        db.session.remove()


def signed_in_client(app, user_id: str = "1:1"):
    """A browser holding a signed-in session cookie (signed with the app's key), as one had before the
    database went away."""
    client = app.test_client()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": user_id, "_fresh": True})
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


@pytest.mark.parametrize("path", ["/tickets/", "/dashboard/", "/queues/dispatch", "/public/stats"])
def test_pages_answer_503_with_retry_after_and_a_page_in_the_sites_layout(down, path):
    response = signed_in_client(down).get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:300]
    assert response.headers["Retry-After"] == "30"
    assert response.mimetype == "text/html" and 'class="error-code' in page and "503" in page
    assert "暂时无法使用" in page or "Briefly unavailable" in page
    assert "Traceback" not in page and "psycopg" not in page
    assert "没有保存" not in page  # a GET sent nothing to lose
    assert 'href="/portal"' in page  # drawn signed out: the way back is the citizens' portal


def test_an_anonymous_appeal_sent_while_the_database_is_down_is_told_it_was_not_saved(down):
    response = down.test_client().post("/appeal", data={"title": "路灯不亮"})
    page = response.get_data(as_text=True)
    # The sign-up route's rate limit may move Retry-After later (to its window's end), never earlier.
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30
    assert "没有保存" in page


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/open311/v2/requests.json", "/open311/v2/services.json"])
def test_machine_channels_answer_503_in_their_own_format(down, path):
    from hotline.api.services import _serializer

    token = _serializer().dumps({"uid": 1, "pw": "stamp", "sv": 1})  # signed: its user is read from the database
    response = down.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.is_json
    body = response.get_json()
    code = body["error"]["code"] if isinstance(body, dict) else body[0]["code"]
    assert code in ("service_unavailable", 503)


def test_the_error_page_falls_back_to_a_page_that_needs_nothing(app, client, monkeypatch):
    """If even the signed-out layout fails, a plain bilingual page with the right status answers."""
    import hotline

    monkeypatch.setattr(hotline, "render_template", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "系统暂时无法处理您的请求" in response.get_data(as_text=True)
