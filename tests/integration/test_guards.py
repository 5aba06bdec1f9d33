"""The view guard: anonymous users are sent to log in, users the predicate refuses get 403."""

import pytest
from flask import Blueprint

from hotline.accounts.decorators import permission_required
from tests.factories import PASSWORD

guarded = Blueprint("guarded_for_test", __name__)


@guarded.route("/_test/dispatch-only")
@permission_required(lambda user: user.username in {"dispatcher", "admin"})
def dispatch_only():
    return "ok"


@pytest.fixture
def guarded_client(app, world):
    """A second app on the same database, with a guarded route (routes cannot be added once serving)."""
    from hotline import create_app

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    other.register_blueprint(guarded)
    yield other.test_client()
    with other.app_context():
        from hotline.extensions import db

        db.engine.dispose()


@pytest.mark.parametrize(
    "username, expected",
    [
        (None, 302),
        ("dispatcher", 200),
        ("admin", 200),
        ("operator", 403),
        ("district_handler", 403),
        ("citizen", 403),
    ],
)
def test_permission_required(guarded_client, world, username, expected):
    if username:
        guarded_client.post("/login", data={"username": username, "password": PASSWORD})
    assert guarded_client.get("/_test/dispatch-only").status_code == expected
