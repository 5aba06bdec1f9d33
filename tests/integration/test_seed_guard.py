"""``flask seed-demo`` (and so ``make run``) never merges the demo into a real city's database by accident."""

from sqlalchemy import delete, func, select

from hotline.accounts.models import User
from hotline.core.audit import AuditEntry
from hotline.demo.seed import DEMO_MARKER
from hotline.extensions import db
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.orgs.services import create_unit
from hotline.sla.models import WorkCalendarDay
from hotline.tickets.models import Category, Ticket


def _counts():
    return tuple(
        db.session.execute(select(func.count()).select_from(m)).scalar_one()
        for m in (OrgUnit, User, Category, Ticket, AuditEntry, WorkCalendarDay)
    )


def _seed(app, *args):
    return app.test_cli_runner().invoke(args=["seed-demo", "--tickets", "20", *args])


def test_refuses_a_database_with_a_real_citys_data_and_writes_nothing(app):
    city = create_unit("rc", "某某市", UnitKind.CITY)
    create_unit("rc-hotline", "某某市12345热线中心", UnitKind.HOTLINE_CENTRE, city)
    db.session.commit()
    before = _counts()
    result = _seed(app)
    assert result.exit_code == 2, result.output
    url = db.engine.url
    assert url.render_as_string(hide_password=True) in result.output
    assert "rc-hotline" in result.output and "--force" in result.output
    if url.password:
        assert url.password not in result.output
    db.session.expire_all()
    assert _counts() == before


def test_refuses_real_units_that_reuse_the_demos_codes(app, world):
    before = _counts()
    result = _seed(app)  # the test city uses demo codes (city, d1 …) but its users are not the demo's
    assert result.exit_code == 2 and "district_handler" in result.output
    assert _counts() == before


def test_force_merges_the_demo_without_marking_the_database_as_demo(app):
    create_unit("rc", "某某市", UnitKind.CITY)
    db.session.commit()
    forced = _seed(app, "--force")
    assert forced.exit_code == 0, forced.output
    assert "tickets created: 20" in forced.output
    assert db.session.execute(select(func.count(OrgUnit.id))).scalar_one() > 50
    assert _seed(app).exit_code == 2  # still not a demo database: each run needs --force
    again = _seed(app, "--force")
    assert again.exit_code == 0 and "tickets created: 0" in again.output


def test_an_empty_database_is_seeded_marked_and_seeded_again(app):
    first = _seed(app)
    assert first.exit_code == 0, first.output
    marker = db.session.execute(select(AuditEntry).where(AuditEntry.action == DEMO_MARKER)).scalars().all()
    assert len(marker) == 1 and marker[0].actor_name == "system"
    before = _counts()
    second = _seed(app)
    assert second.exit_code == 0 and "tickets created: 0" in second.output
    assert _counts() == before  # idempotent: not even a second marker


def test_a_demo_database_from_before_the_marker_is_still_seeded(app):
    assert _seed(app).exit_code == 0
    db.session.execute(delete(AuditEntry).where(AuditEntry.action == DEMO_MARKER))
    db.session.commit()
    again = _seed(app)
    assert again.exit_code == 0 and "tickets created: 0" in again.output, again.output


def test_a_tester_s_additions_to_the_demo_do_not_block_it(app):
    assert _seed(app).exit_code == 0
    city = db.session.execute(select(OrgUnit).filter_by(code="city")).scalar_one()
    create_unit("new-dept", "新部门", UnitKind.DEPARTMENT, city)
    db.session.commit()
    assert _seed(app).exit_code == 0
