"""The PostgreSQL search index in partitions of ticket ids (hotline.search.partitions): every row in its range,
none lost past the last range, and search finding the same matches across partitions."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hotline import create_app
from hotline.extensions import db
from hotline.search import partitions, services
from hotline.search.bulk import rebuild
from hotline.search.partitions import DEFAULT, ensure_partitions
from hotline.search.services import newest_matches, search_tickets

TITLE, BODY = "电梯故障", "小区电梯经常故障停运，老人上下楼困难。"


@pytest.fixture
def layout(pg_world):
    """The partitions the migration made; those a test adds are dropped after it."""
    before = {p.name for p in partitions.partitions()}
    yield before
    db.session.rollback()
    for p in partitions.partitions():
        if p.name not in before:
            db.session.execute(sa.text(f"DROP TABLE {p.name}"))
    db.session.commit()


def _ticket_at(world, ticket_id, **kw):
    """A ticket registered with the given id (the id sequence moved there first)."""
    db.session.execute(sa.text("SELECT setval('ticket_id_seq', :v, false)"), {"v": ticket_id})
    ticket = world.ticket_in("pending_dispatch", title=TITLE, body=BODY, **kw)
    db.session.commit()
    assert ticket.id == ticket_id
    return ticket


def _home(ticket_id):
    """The partition that holds the ticket's index row."""
    return db.session.execute(
        sa.text("SELECT tableoid::regclass::text FROM ticket_search WHERE ticket_id = :i"), {"i": ticket_id}
    ).scalar_one()


def test_the_migration_partitions_the_index_by_id_ranges(layout):
    assert partitions.is_partitioned()
    ranges = partitions.partitions()
    assert [(p.name, p.lower, p.upper) for p in ranges] == [
        ("ticket_search_0", 0, 1_000_000),
        ("ticket_search_1000000", 1_000_000, 2_000_000),
        (DEFAULT, None, None),
    ]
    # each partition carries the GIN and BRIN indexes made on the parent
    kinds = db.session.execute(
        sa.text(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'ticket_search_0'::regclass"
        )
    ).scalars()
    assert sorted(kinds) == ["brin", "btree", "gin"]


def test_a_ticket_past_every_range_is_kept_and_moved_into_the_range_made_for_it(pg_world, layout):
    old = _ticket_at(pg_world, 5)
    stray = _ticket_at(pg_world, 2_000_003, citizen_phone="13900000021")
    assert (_home(old.id), _home(stray.id)) == ("ticket_search_0", DEFAULT)
    assert {h.ticket.id for h in search_tickets("电梯 故障").hits} == {old.id, stray.id}

    made = ensure_partitions(width=10)
    db.session.commit()
    # ranges up to one width past the newest id (2,000,003): [2,000,000, 2,000,010) and [2,000,010, 2,000,020)
    assert made == ["ticket_search_2000000", "ticket_search_2000010"]
    assert _home(stray.id) == "ticket_search_2000000"
    assert db.session.execute(sa.text(f"SELECT count(*) FROM {DEFAULT}")).scalar_one() == 0
    assert {h.ticket.id for h in search_tickets("电梯 故障").hits} == {old.id, stray.id}
    assert ensure_partitions(width=10) == []  # already ahead: nothing to make


def test_newest_matches_walk_the_partitions_newest_first(pg_world, layout, monkeypatch):
    ids = [_ticket_at(pg_world, i, citizen_phone=f"139{i % 100_000_000:08d}").id for i in (7, 1_000_002, 2_000_001)]
    ensure_partitions(width=1_000_000)
    db.session.commit()
    assert [_home(i) for i in ids] == ["ticket_search_0", "ticket_search_1000000", "ticket_search_2000000"]
    assert newest_matches("电梯 故障") == ids[::-1]
    # the slices (a recent scan of one row, then id ranges sized for one match) reach every partition in turn
    monkeypatch.setattr(services, "RECENT_SCAN", 1)
    monkeypatch.setattr(services, "SLICE_TARGET", 1)
    assert newest_matches("电梯 故障") == ids[::-1]
    assert newest_matches("电梯 噪音") == []
    assert search_tickets("电梯 故障", pg_world.dispatcher).total == 3


def test_reindex_copies_each_row_into_its_partition(pg_world, layout):
    old = _ticket_at(pg_world, 11)
    new = _ticket_at(pg_world, 2_000_005, citizen_phone="13900000022")
    db.session.execute(sa.text("DELETE FROM ticket_search"))
    db.session.commit()
    assert rebuild(workers=1) == 2  # makes the range the newest ticket needs before it copies
    db.session.commit()
    assert (_home(old.id), _home(new.id)) == ("ticket_search_0", "ticket_search_2000000")
    assert newest_matches("电梯 故障") == [new.id, old.id]


def test_partitions_command_makes_ranges_ahead_and_lists_them(pg_app, pg_world, layout):
    _ticket_at(pg_world, 2_000_001)
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["search", "partitions"])
    assert result.exit_code == 0, result.output
    assert "made ticket_search_2000000" in result.output
    assert "ticket_search_2000000" in result.output and "DEFAULT" in result.output
    again = runner.invoke(args=["search", "partitions"])
    assert again.exit_code == 0 and "made" not in again.output
    bad = runner.invoke(args=["search", "partitions", "--ahead", "-1"])
    assert bad.exit_code == 2 and "--ahead" in bad.output


def test_the_beat_keeps_the_next_range_ahead_daily():
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks import extend_partitions

    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "hotline.search.extend_partitions")
    assert entry["schedule"].hour == {2} and extend_partitions.name == "hotline.search.extend_partitions"


def test_the_upgrade_keeps_every_row_and_the_downgrade_too(pg_databases):
    from tests.factories import build_world

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=pg_databases.create("partitions"))
    with app.app_context():
        upgrade(revision="a1b2c3d4e5f7")
        world = build_world()
        ticket = world.ticket_in("pending_dispatch", title=TITLE, body=BODY)
        db.session.commit()
        ticket_id = ticket.id
        db.session.remove()
        upgrade(revision="c4d5e6f7a8b9")
        assert partitions.is_partitioned() and _home(ticket_id) == "ticket_search_0"
        assert newest_matches("电梯 故障") == [ticket_id]
        db.session.remove()
        downgrade(revision="a1b2c3d4e5f7")
        assert not partitions.is_partitioned()
        assert newest_matches("电梯 故障") == [ticket_id]
        db.session.remove()
        db.engine.dispose()


def test_partitions_command_on_each_back_end(app):
    result = app.test_cli_runner().invoke(args=["search", "partitions"])
    assert result.exit_code == 0, result.output
    if db.session.get_bind().dialect.name == "sqlite":
        assert "no search partitions" in result.output and ensure_partitions() == []
    else:
        assert "ticket_search_0 " in result.output and "ticket_search_default" in result.output
