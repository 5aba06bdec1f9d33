"""Bulk import and export of units, categories, users and routing (issue 20.2): CLI, web and the example city."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from hotline.accounts.models import User
from hotline.accounts.services import authenticate, get_user, reset_password
from hotline.admin import bulk
from hotline.core.audit import AuditEntry
from hotline.extensions import db
from hotline.orgs.models import OrgUnit
from hotline.orgs.services import get_unit_by_code
from hotline.tickets.models import Category, CategoryRoute
from tests.factories import PASSWORD

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ORDER = [("units", "units.csv"), ("categories", "categories.csv"), ("users", "users.csv"), ("routing", "routing.csv")]
CLI_GROUP = {"units": "orgs", "categories": "categories", "users": "users", "routing": "routing"}


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def run(kind, data: bytes | str, file_format="csv", apply=True) -> bulk.ImportResult:
    data = data.encode() if isinstance(data, str) else data
    result = bulk.import_file(kind, data, file_format, actor="test", apply=apply)
    db.session.commit() if result.applied else db.session.rollback()
    return result


def import_examples() -> dict[str, bulk.ImportResult]:
    return {kind: run(kind, (EXAMPLES / name).read_bytes()) for kind, name in ORDER}


def test_the_example_city_imports_cleanly_with_the_stated_counts(app):
    results = import_examples()
    assert all(r.errors == [] and r.applied for r in results.values())
    assert {k: r.counts["create"] for k, r in results.items()} == {
        "units": 26,
        "categories": 20,
        "users": 5,
        "routing": 30,
    }
    kinds = dict(db.session.execute(select(OrgUnit.kind, func.count()).group_by(OrgUnit.kind)).all())
    assert kinds == {"city": 1, "hotline_centre": 1, "district": 2, "street": 4, "community": 8, "department": 10}
    assert count(Category, Category.parent_id.is_(None)) == 5 and count(Category) == 20
    # Every second-level category routes to an active unit in both districts.
    for district in ("d1", "d2"):
        unit = get_unit_by_code(district)
        routed = db.session.execute(select(CategoryRoute).filter_by(district_id=unit.id)).scalars().all()
        assert len(routed) == 15 and all(r.unit.active and bulk.route_target_allowed(unit, r.unit) for r in routed)
    assert get_unit_by_code("d1-s2-c2").path == f"{get_unit_by_code('d1-s2').path}{get_unit_by_code('d1-s2-c2').id}/"
    # A second import of the same files changes nothing.
    audits = count(AuditEntry)
    again = import_examples()
    assert all(r.counts["create"] == r.counts["change"] == 0 and not r.errors for r in again.values())
    assert count(AuditEntry) == audits


def test_imported_users_have_no_usable_password_until_an_admin_resets_it(app):
    import_examples()
    user = get_user("wangfang")
    assert user.must_change_password and user.password_hash == "!"
    assert [r.role for r in user.roles] == ["operator"] and user.roles[0].scope_unit.code == "city"
    for guess in ("!", "", "wangfang", PASSWORD):
        assert authenticate("wangfang", guess) is None
    password = reset_password(user, actor="test")
    db.session.commit()
    assert authenticate("wangfang", password) is not None


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["units", "categories", "users", "routing"])
def test_an_export_imports_back_without_a_change(app, kind, file_format):
    import_examples()
    get_unit_by_code("d2-s2-c2").active = False  # an inactive unit, a phone and a text that looks like a formula
    get_user("liqiang").phone = "+8613912345678"
    db.session.execute(select(Category).filter_by(code="0503")).scalar_one().name = "=出租车"
    db.session.commit()
    data = bulk.export_file(kind, file_format, actor="test")
    db.session.commit()
    audits = count(AuditEntry)
    result = run(kind, data, file_format)
    assert result.errors == [] and result.counts["create"] == result.counts["change"] == 0
    assert result.counts["unchanged"] == {"units": 26, "categories": 20, "users": 5, "routing": 30}[kind]
    assert count(AuditEntry) == audits


def test_edited_rows_are_changed_through_the_services_and_audited(app):
    import_examples()
    result = run("units", "code,name,kind,parent\nd1-s1-c1,东门新社区,community,d1-s2\n")
    assert result.counts == {"create": 0, "change": 1, "unchanged": 0}
    assert result.rows[0].changes == {"name": ("东门社区", "东门新社区"), "parent": ("d1-s1", "d1-s2")}
    moved = get_unit_by_code("d1-s1-c1")
    assert moved.parent.code == "d1-s2" and moved.path.startswith(get_unit_by_code("d1-s2").path)
    actions = set(db.session.execute(select(AuditEntry.action).where(AuditEntry.target == "unit d1-s1-c1")).scalars())
    assert {"unit.update", "unit.move"} <= actions
    assert count(AuditEntry, AuditEntry.action == "import.units") == 2

    result = run("categories", "code,name,parent,active\n05,交通出行,,no\n")
    assert result.rows[0].changes == {"active": ("yes", "no")}
    assert count(Category, Category.parent.has(code="05"), Category.active) == 0  # its children went with it
    result = run(
        "users", "username,display_name,unit,roles,active\nliqiang,李强,hotline,dispatcher@city supervisor@d1,no\n"
    )
    user = get_user("liqiang")
    assert not user.active and sorted(f"{r.role}@{r.scope_unit.code}" for r in user.roles) == [
        "dispatcher@city",
        "supervisor@d1",
    ]
    assert result.rows[0].changes["roles"] == ("dispatcher@city", "dispatcher@city supervisor@d1")


def test_a_bad_row_is_refused_with_row_column_and_reason_and_nothing_is_written(app):
    import_examples()
    units, audits = count(OrgUnit), count(AuditEntry)
    result = run(
        "units",
        "code,name,kind,parent,active\n"
        "d3,北山区,district,city,yes\n"  # row 2: fine
        "d3-s1,,street,d3,yes\n"  # row 3: no name
        "d3-s2,北坡街道,street,d9,\n"  # row 4: unknown parent
        "d3-x,某处,galaxy,d3,maybe\n"  # row 5: bad kind and active
        "d3-c,某社区,community,d3,\n"  # row 6: a community under a district
        "d3,北山区,district,city,\n"  # row 7: repeated
        "d1,东城区,district,city,no\n",
    )  # row 8: holds active units and users
    assert not result.applied
    got = {(e.row, e.column) for e in result.errors}
    assert got == {(3, "name"), (4, "parent"), (5, "kind"), (5, "active"), (6, "parent"), (7, "code"), (8, "active")}
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "d9" in messages[(4, "parent")] and "d3" in messages[(7, "code")]
    assert "active units" in messages[(8, "active")] or "下级" in messages[(8, "active")]
    assert count(OrgUnit) == units and get_unit_by_code("d3") is None and count(AuditEntry) == audits


def test_bad_user_and_routing_rows(app):
    import_examples()
    result = run(
        "users",
        "username,display_name,unit,roles\n"
        "newbie,新人,nowhere,handler\n"
        "newbie2,新人二,d1,boss@d1\n"
        "newbie3,新人三,d1,handler@d9\n",
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "unit"), (3, "roles"), (4, "roles")]
    assert get_user("newbie2") is None
    result = run(
        "routing",
        "category,district,unit\n"
        "01,d1,city-eco\n"  # a first-level category
        "0101,d9,city-eco\n"  # no such district
        "0101,d1,d2-housing\n"  # another district's bureau
        "0102,d1,\n",
    )  # unit missing
    assert [(e.row, e.column) for e in result.errors] == [(2, "category"), (3, "district"), (4, "unit"), (5, "unit")]


def test_a_dry_run_writes_nothing(app):
    audits = count(AuditEntry)
    result = run("units", (EXAMPLES / "units.csv").read_bytes(), apply=False)
    assert result.errors == [] and not result.applied and result.counts["create"] == 26
    assert count(OrgUnit) == 0 and count(AuditEntry) == audits


@pytest.mark.parametrize(
    "data, file_format, message",
    [
        (b"", "csv", "文件为空"),  # the app's default language, as the CLI speaks it
        (b"\xff\xfe\x00garbage\x00", "csv", "CSV"),
        (b"not a zip", "xlsx", "XLSX"),
        (b"code,name,colour\nx,y,z\n", "csv", "colour"),
        (b"name,kind\nx,city\n", "csv", "code"),
    ],
)
def test_a_bad_file_is_refused_as_a_whole(app, data, file_format, message):
    with pytest.raises(bulk.ImportFileError) as refused:
        bulk.import_file("units", data, file_format, actor="test", apply=True)
    db.session.rollback()
    assert message in str(refused.value.message) and count(OrgUnit) == 0


def test_gb18030_csv_and_xlsx_with_numbers_are_read(app):
    run("units", (EXAMPLES / "units.csv").read_bytes())
    result = run("categories", "code,name,parent\n09,其他,\n".encode("gb18030"))
    assert result.counts["create"] == 1 and db.session.execute(select(Category).filter_by(code="09")).scalar_one()
    book = Workbook()
    book.active.append(["code", "name", "parent"])
    book.active.append([901, "其他事项", "09"])  # a code Excel stored as a number
    buffer = io.BytesIO()
    book.save(buffer)
    assert run("categories", buffer.getvalue(), "xlsx").counts["create"] == 1
    assert db.session.execute(select(Category).filter_by(code="901")).scalar_one().parent.code == "09"


# --- the CLI --------------------------------------------------------------------------------------------------


def test_cli_imports_dry_runs_and_exports(app, tmp_path):
    runner = app.test_cli_runner()
    for kind, name in ORDER:
        path = str(EXAMPLES / name)
        dry = runner.invoke(args=[CLI_GROUP[kind], "import", path, "--dry-run"])
        if kind == "units":
            assert dry.exit_code == 0 and "dry run: 26 to create" in dry.output and count(OrgUnit) == 0
        done = runner.invoke(args=[CLI_GROUP[kind], "import", path])
        assert done.exit_code == 0, done.output
    assert count(User) == 5 and count(CategoryRoute) == 30
    again = runner.invoke(args=["routing", "import", str(EXAMPLES / "routing.csv")])
    assert again.exit_code == 0 and "0 created, 0 changed, 30 unchanged" in again.output
    out = tmp_path / "units.xlsx"
    assert runner.invoke(args=["orgs", "export", str(out)]).exit_code == 0
    assert (
        "0 to create, 0 to change, 26 unchanged" in runner.invoke(args=["orgs", "import", str(out), "--dry-run"]).output
    )
    stdout = runner.invoke(args=["users", "export", "-"])
    assert stdout.exit_code == 0 and "username,display_name,phone,unit,roles,active" in stdout.output
    assert "wangfang,王芳,,hotline,operator@city,yes" in stdout.output


def test_cli_exit_codes_on_bad_input(app, tmp_path):
    runner = app.test_cli_runner()
    bad = tmp_path / "units.csv"
    bad.write_text("code,name,kind,parent\ncity,青溪市,city,\nd1,,district,city\n", encoding="utf-8")
    result = runner.invoke(args=["orgs", "import", str(bad)])
    assert result.exit_code == 1 and "row 3, column name:" in result.output and "nothing was written" in result.output
    assert count(OrgUnit) == 0
    garbage = tmp_path / "units.xlsx"
    garbage.write_bytes(b"not a workbook")
    result = runner.invoke(args=["orgs", "import", str(garbage)])
    assert result.exit_code == 1 and "XLSX" in result.output
    assert runner.invoke(args=["orgs", "import", str(tmp_path / "missing.csv")]).exit_code == 1
    assert runner.invoke(args=["categories", "import", str(tmp_path / "units.txt")]).exit_code == 2
    assert runner.invoke(args=["routing", "import"]).exit_code == 2


# --- the web page ---------------------------------------------------------------------------------------------


def login(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})


def upload(client, kind, data: bytes, name):
    return client.post(
        "/admin/import", data={"kind": kind, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_web_preview_then_apply(client, world):
    login(client, "admin")
    data = (
        "code,name,kind,parent\nd1-s2,湖心街道,street,d1\nd1-s2-c1,湖心社区,community,d1-s2\nd1,东湖区,district,city\n"
    ).encode()
    preview = upload(client, "units", data, "units.csv")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-testid="apply"' in page and "湖心街道" in page
    assert get_unit_by_code("d1-s2") is None  # the preview wrote nothing
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    applied = client.post("/admin/import/apply", data={"kind": "units", "token": token, "filename": "units.csv"})
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/admin/units")
    assert get_unit_by_code("d1-s2-c1").parent.code == "d1-s2"
    entry = db.session.execute(select(AuditEntry).filter_by(action="import.units")).scalar_one()
    assert entry.actor_name == "admin" and entry.detail_data == {"create": 2, "change": 0, "unchanged": 1}
    # The same upload cannot be applied twice; the same file again has nothing to apply.
    again = client.post("/admin/import/apply", data={"kind": "units", "token": token, "filename": "units.csv"})
    assert again.status_code == 400
    assert 'data-testid="apply"' not in upload(client, "units", data, "units.csv").get_data(as_text=True)


def test_web_preview_lists_bad_rows_and_offers_no_apply(client, world):
    login(client, "admin")
    response = upload(
        client, "units", b"code,name,kind,parent\nd9,,district,city\nd9-s1,x,street,nowhere\n", "units.csv"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-testid="import-errors"' in page
    assert re.search(r"<td>2</td><td><code>name</code></td>", page)
    assert re.search(r"<td>3</td><td><code>parent</code></td>", page)
    assert 'data-testid="apply"' not in page and get_unit_by_code("d9") is None
    bad_file = upload(client, "users", b"hello", "users.pdf")
    assert bad_file.status_code == 400 and 'data-testid="file-error"' in bad_file.get_data(as_text=True)


def test_web_export_downloads(client, world):
    login(client, "admin")
    csv_file = client.get("/admin/export/units.csv")
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert "attachment" in csv_file.headers["Content-Disposition"]
    assert "d1-s1-c1,柳岸社区,,community,d1-s1,yes" in csv_file.get_data(as_text=True)
    xlsx = client.get("/admin/export/users.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert count(AuditEntry, AuditEntry.action.in_(["export.units", "export.users"])) == 2
    assert client.get("/admin/export/tickets.csv").status_code == 404
