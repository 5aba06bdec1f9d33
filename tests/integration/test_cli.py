"""``flask users create`` and ``flask seed-demo`` as an admin would run them."""

from hotline.accounts.services import authenticate
from hotline.extensions import db


def test_users_create(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "wang",
            "--password",
            "harbour-s3cret-pass",
            "--unit",
            "d1-s1",
            "--role",
            "handler",
            "--name",
            "王芳",
        ]
    )
    assert result.exit_code == 0, result.output
    user = authenticate("wang", "harbour-s3cret-pass")
    assert user.display_name == "王芳" and user.has_role("handler") and user.org_unit.code == "d1-s1"


def test_users_create_refuses_bad_input_and_changes_nothing(app, world):
    runner = app.test_cli_runner()
    unknown_unit = runner.invoke(
        args=["users", "create", "li", "--password", "long-enough", "--unit", "nowhere", "--role", "handler"]
    )
    assert unknown_unit.exit_code != 0 and "nowhere" in unknown_unit.output
    bad_role = runner.invoke(
        args=["users", "create", "li", "--password", "long-enough", "--unit", "d1", "--role", "king"]
    )
    assert bad_role.exit_code != 0
    short = runner.invoke(args=["users", "create", "li", "--password", "short", "--unit", "d1", "--role", "handler"])
    assert short.exit_code == 1 and "8" in short.output
    taken = runner.invoke(
        args=["users", "create", "operator", "--password", "long-enough", "--unit", "d1", "--role", "handler"]
    )
    assert taken.exit_code == 1 and "operator" in taken.output, taken.output
    db.session.expire_all()
    assert authenticate("li", "long-enough") is None


def test_seed_demo_command_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--tickets", "40"])
    assert first.exit_code == 0, first.output
    assert "tickets created: 40" in first.output
    second = runner.invoke(args=["seed-demo", "--tickets", "40"])
    assert second.exit_code == 0 and "tickets created: 0" in second.output
