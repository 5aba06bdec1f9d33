"""``flask users list|deactivate|activate|set-role|set-unit`` and passwords without a terminal, as an operator
would run them: each change audited as ``cli``, sessions revoked, bad input refused with a non-zero exit."""

from sqlalchemy import select

from hotline.accounts.services import authenticate, get_user
from hotline.core.audit import AuditEntry
from hotline.extensions import db


def _run(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=["users", *args], **kwargs)


def _audits(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def test_list_shows_every_column_and_filters(app, world):
    everyone = _run(app, "list")
    assert everyone.exit_code == 0, everyone.output
    header, *rows = everyone.stdout.splitlines()
    assert header.split() == ["USERNAME", "NAME", "UNIT", "ROLES", "ACTIVE"]
    street = next(r for r in rows if r.startswith("street_handler "))
    assert street.split() == ["street_handler", "street_handler", "d1-s1", "handler@d1-s1", "yes"]
    assert len(rows) == 9
    in_district = _run(app, "list", "--unit", "d1").stdout.splitlines()[1:]
    assert {r.split()[0] for r in in_district} == {"district_handler", "street_handler", "department_handler"}
    admins = _run(app, "list", "--role", "admin").stdout.splitlines()[1:]
    assert [r.split()[0] for r in admins] == ["admin"]
    assert _run(app, "list", "--inactive").stdout.splitlines()[1:] == []


def test_list_refuses_unknown_unit_and_role(app, world):
    unit = _run(app, "list", "--unit", "nowhere")
    assert unit.exit_code == 2 and "nowhere" in unit.output
    role = _run(app, "list", "--role", "king")
    assert role.exit_code == 2 and "king" in role.output


def test_deactivate_and_activate(app, world):
    version = world.street_handler.session_version
    result = _run(app, "deactivate", "street_handler")
    assert result.exit_code == 0 and "street_handler deactivated" in result.output
    db.session.expire_all()
    user = get_user("street_handler")
    assert not user.active and user.session_version == version + 1
    assert authenticate("street_handler", "correct-horse") is None
    assert [a.actor_name for a in _audits("user.deactivate")] == ["cli"]
    listed = _run(app, "list", "--inactive").stdout.splitlines()[1:]
    assert [r.split()[0] for r in listed] == ["street_handler"] and listed[0].split()[-1] == "no"
    again = _run(app, "deactivate", "street_handler")
    assert again.exit_code == 1 and "street_handler" in again.output
    back = _run(app, "activate", "street_handler")
    assert back.exit_code == 0 and "street_handler activated" in back.output
    db.session.expire_all()
    assert authenticate("street_handler", "correct-horse") is not None
    assert [a.actor_name for a in _audits("user.activate")] == ["cli"]
    already = _run(app, "activate", "street_handler")
    assert already.exit_code == 1


def test_set_role_with_spaces_commas_and_scope(app, world):
    result = _run(app, "set-role", "street_handler", "handler,supervisor")
    assert result.exit_code == 0, result.output
    assert "handler@d1-s1" in result.output and "supervisor@d1-s1" in result.output
    scoped = _run(app, "set-role", "operator", "operator", "dispatcher", "--scope", "city")
    assert scoped.exit_code == 0, scoped.output
    db.session.expire_all()
    operator = get_user("operator")
    assert sorted((r.role, r.scope_unit.code) for r in operator.roles) == [("dispatcher", "city"), ("operator", "city")]
    audit = _audits("user.set_roles")
    assert [a.actor_name for a in audit] == ["cli", "cli"]
    assert audit[0].detail_data["roles"] == [["handler@d1-s1"], ["handler@d1-s1", "supervisor@d1-s1"]]


def test_set_role_refuses_bad_input_and_changes_nothing(app, world):
    unknown_role = _run(app, "set-role", "street_handler", "handler,king")
    assert unknown_role.exit_code == 2 and "'king'" in unknown_role.output
    unknown_user = _run(app, "set-role", "nobody", "handler")
    assert unknown_user.exit_code == 2 and "nobody" in unknown_user.output
    unknown_scope = _run(app, "set-role", "street_handler", "admin", "--scope", "nowhere")
    assert unknown_scope.exit_code == 2 and "nowhere" in unknown_scope.output
    none = _run(app, "set-role", "street_handler", ",")
    assert none.exit_code == 2
    db.session.expire_all()
    assert [r.role for r in get_user("street_handler").roles] == ["handler"]
    assert _audits("user.set_roles") == []


def test_set_unit(app, world):
    version = world.street_handler.session_version
    result = _run(app, "set-unit", "street_handler", "d1-s1-c1")
    assert result.exit_code == 0 and "street_handler now in d1-s1-c1" in result.output
    db.session.expire_all()
    user = get_user("street_handler")
    assert user.org_unit.code == "d1-s1-c1" and user.session_version == version + 1
    assert [(a.actor_name, a.detail_data["unit"]) for a in _audits("user.set_unit")] == [("cli", ["d1-s1", "d1-s1-c1"])]


def test_set_unit_refuses_unknown_user_unknown_and_deactivated_unit(app, world):
    assert _run(app, "set-unit", "nobody", "d1").exit_code == 2
    unknown = _run(app, "set-unit", "street_handler", "nowhere")
    assert unknown.exit_code == 2 and "nowhere" in unknown.output
    world.other_district.active = False
    db.session.commit()
    inactive = _run(app, "set-unit", "street_handler", "d2")
    assert inactive.exit_code == 1 and world.other_district.name in inactive.output
    db.session.expire_all()
    assert get_user("street_handler").org_unit.code == "d1-s1" and _audits("user.set_unit") == []


def test_create_without_terminal_or_password_names_password_stdin(app, world):
    result = _run(app, "create", "li", "--unit", "d1", "--role", "handler")
    assert result.exit_code == 2 and "--password-stdin" in result.output and "Aborted" not in result.output
    assert get_user("li") is None


def test_create_and_set_password_read_the_password_from_stdin(app, world):
    created = _run(
        app, "create", "li", "--unit", "d1", "--role", "handler", "--password-stdin", input="harbour-s3cret-pass\n"
    )
    assert created.exit_code == 0, created.output
    assert authenticate("li", "harbour-s3cret-pass") is not None
    changed = _run(app, "set-password", "li", "--password-stdin", input="another-l0ng-secret\n")
    assert changed.exit_code == 0, changed.output
    db.session.expire_all()
    assert authenticate("li", "another-l0ng-secret") is not None
    assert [a.actor_name for a in _audits("user.set_password")] == ["cli"]
    empty = _run(app, "set-password", "li", "--password-stdin", input="")
    assert empty.exit_code == 2 and "--password-stdin" in empty.output
    no_tty = _run(app, "set-password", "li")
    assert no_tty.exit_code == 2 and "--password-stdin" in no_tty.output
    both = _run(app, "set-password", "li", "--password", "x", "--password-stdin", input="y\n")
    assert both.exit_code == 2
