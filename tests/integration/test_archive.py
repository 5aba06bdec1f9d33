"""The archive of tickets closed long ago (``flask archive``, issue 27.3): what goes, what stays, that a
restore gives back every row as it was, merges moving as one, the citizen's tracking page, the dashboard's
rebuild guard, and the command's errors. Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select, update

from hotline.archive import services
from hotline.archive.models import ArchivedTicket
from hotline.archive.services import OWNED
from hotline.core.errors import Conflict
from hotline.cti.models import Call
from hotline.dashboard.models import LivelihoodProject
from hotline.extensions import db
from hotline.search.models import TicketSearch
from hotline.tickets.models import Ticket
from hotline.tickets.services import apply_transition
from tests.factories import PHONE

YEARS_AGO = timedelta(days=4 * 365)


def age(ticket, by=YEARS_AGO):
    """Move a ticket's whole life ``by`` into the past (its times and its history's), in Python: SQLite has no
    interval arithmetic."""
    t = db.metadata.tables
    for name, key, columns in (
        ("ticket", "id", ("created_at", "updated_at", "closed_at", "rated_at")),
        ("ticket_event", "ticket_id", ("created_at",)),
    ):
        table = t[name]
        for row in db.session.execute(select(table).where(table.c[key] == ticket.id)).mappings().all():
            moved = {c: row[c] - by for c in columns if row[c] is not None}
            db.session.execute(update(table).where(table.c.id == row["id"]).values(moved))
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(Ticket, ticket.id)
    return SimpleNamespace(id=row.id, tracking_no=row.tracking_no, title=row.title, closed_at=row.closed_at)


def rows_of(ticket_id):
    """Every row the ticket owns, table by table, as plain dicts."""
    out = {}
    for name in OWNED:
        table = db.metadata.tables[name]
        key = table.c.id if name == "ticket" else table.c.ticket_id
        out[name] = [
            dict(r._mapping)
            for r in db.session.execute(select(table).where(key == ticket_id).order_by(*table.primary_key.columns))
        ]
    return out


def cutoff():
    return datetime.utcnow() - timedelta(days=3 * 365)


def test_an_old_closed_ticket_goes_whole_and_comes_back_exactly(app, world):
    old = world.ticket_in("closed")
    recent, open_ticket = world.ticket_in("closed"), world.ticket_in("in_progress")
    recent_id, open_id = recent.id, open_ticket.id
    old = age(old)
    db.session.execute(insert(Call).values(call_id="c-1", caller=PHONE, state="ended", ticket_id=old.id))
    db.session.commit()
    before = rows_of(old.id)
    assert before["ticket_event"] and before["assignment"] and before["reply"] and before["sla_clock"]

    assert services.would_archive(cutoff()) == 1
    run = services.archive_closed(cutoff(), commit=db.session.commit)
    db.session.commit()
    assert (run.archived, run.kept, run.tracking_nos) == (1, 0, [old.tracking_no])
    assert all(rows == [] for rows in rows_of(old.id).values())  # nothing of it left in the working tables
    assert db.session.get(TicketSearch, old.id) is None
    assert db.session.execute(select(Call.ticket_id).where(Call.call_id == "c-1")).scalar() is None  # the call stays
    archived = db.session.get(ArchivedTicket, old.id)
    assert archived.tracking_no == old.tracking_no and archived.status == "closed"
    assert {t.id for t in db.session.execute(select(Ticket)).scalars()} == {recent_id, open_id}
    assert services.archive_closed(cutoff()).archived == 0  # a second run finds nothing more

    assert services.restore([old.tracking_no]) == [old.tracking_no]
    db.session.commit()
    db.session.expire_all()
    assert rows_of(old.id) == before  # every row, every column, as it was
    assert db.session.execute(select(Call.ticket_id).where(Call.call_id == "c-1")).scalar() == old.id
    assert db.session.get(TicketSearch, old.id) is not None
    assert db.session.execute(select(func.count()).select_from(ArchivedTicket)).scalar() == 0


def test_a_merge_moves_as_one_and_a_recent_member_keeps_it_all(app, world):
    master = world.ticket_in("pending_callback")
    duplicate = world.ticket_in("pending_dispatch")
    apply_transition(duplicate, "merge", world.dispatcher, master=master)
    apply_transition(master, "rate_satisfied", world.operator, satisfaction="satisfied")
    db.session.commit()
    assert master.status == "closed" and duplicate.status == "merged"
    master = age(master)
    assert services.archive_closed(cutoff()).archived == 0  # the merged caller's appeal is recent: both stay
    duplicate = age(duplicate)
    assert services.archive_closed(cutoff(), commit=db.session.commit).archived == 2
    db.session.commit()
    # Restoring either brings back both, the merge included.
    assert sorted(services.restore([duplicate.tracking_no])) == sorted([master.tracking_no, duplicate.tracking_no])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, duplicate.id).merged_into_id == master.id


def test_a_ticket_a_record_cites_stays_in_the_working_tables(app, world):
    cited, plain = age(world.ticket_in("closed")), age(world.ticket_in("closed"))
    project = LivelihoodProject(year=2022, name="老旧小区改造")
    db.session.add(project)
    db.session.flush()
    db.session.execute(
        insert(db.metadata.tables["livelihood_project_ticket"]).values(project_id=project.id, ticket_id=cited.id)
    )
    db.session.commit()
    run = services.archive_closed(cutoff(), commit=db.session.commit)
    assert (run.archived, run.kept) == (1, 1)
    assert db.session.get(Ticket, cited.id) is not None and db.session.get(Ticket, plain.id) is None


def test_the_command_archives_counts_restores_and_refuses_bad_input(app, world):
    old = age(world.ticket_in("closed"))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["archive", "--years", "3", "--dry-run"])
    assert dry.exit_code == 0 and "would archive 1 ticket(s)" in dry.output
    assert db.session.get(Ticket, old.id) is not None  # a dry run changes nothing
    done = runner.invoke(args=["archive", "--years", "3"])
    assert done.exit_code == 0 and "archived 1 ticket(s)" in done.output and old.tracking_no in done.output
    status = runner.invoke(args=["archive", "status"])
    assert status.exit_code == 0 and status.output.startswith("1 ticket(s) archived")

    for bad in (
        ["archive", "--years", "0"],
        ["archive", "restore"],
        ["archive", "restore", "x", "--closed-after", "2020-01-01"],
    ):
        result = runner.invoke(args=bad)
        assert result.exit_code == 2, (bad, result.output)
    unknown = runner.invoke(args=["archive", "restore", "20200101999999"])
    assert unknown.exit_code == 1 and "20200101999999" in unknown.output and "Traceback" not in unknown.output
    assert db.session.execute(select(func.count()).select_from(ArchivedTicket)).scalar() == 1

    # Rebuilding the rollups of a day the archive holds facts of would lose them: refused.
    day = (old.closed_at + timedelta(hours=8)).date().isoformat()
    refused = runner.invoke(args=["kpi", "rebuild", "--from", day, "--to", day])
    assert refused.exit_code == 1 and "archive" in refused.output

    back = runner.invoke(args=["archive", "restore", "--closed-after", "2000-01-01"])
    assert back.exit_code == 0 and "restored 1 ticket(s)" in back.output
    assert db.session.get(Ticket, old.id).tracking_no == old.tracking_no
    assert runner.invoke(args=["archive", "status"]).output.strip() == "the archive is empty"


@pytest.mark.parametrize("phone, found", [(PHONE, True), ("13711112222", False)])
def test_the_citizen_learns_an_archived_appeal_was_closed_on_the_same_proof(client, world, phone, found):
    old = age(world.ticket_in("closed"))
    services.archive_closed(cutoff(), commit=db.session.commit)
    response = client.post("/track", data={"tracking_no": old.tracking_no, "phone": phone})
    page = response.get_data(as_text=True)
    if found:
        assert response.status_code == 200 and 'data-testid="archived-appeal"' in page
        assert (old.closed_at + timedelta(hours=8)).strftime("%Y-%m-%d") in page and "已归档" in page
        assert old.title not in page and PHONE not in page  # its closing, not its file
    else:
        assert response.status_code == 400 and 'data-testid="archived-appeal"' not in page


def test_a_limited_run_stops_and_the_next_goes_on(app, world):
    tickets = [age(world.ticket_in("closed")) for _ in range(3)]
    first = services.archive_closed(cutoff(), batch=1, limit=2, commit=db.session.commit)
    assert (first.archived, first.kept) == (2, 1)
    second = services.archive_closed(cutoff(), batch=1, commit=db.session.commit)
    assert (second.archived, second.kept) == (1, 0)
    assert {a.ticket_id for a in db.session.execute(select(ArchivedTicket)).scalars()} == {t.id for t in tickets}


def test_a_restore_onto_an_id_taken_since_is_refused_and_changes_nothing(app, world):
    """SQLite reuses the newest row's id once it is deleted: a ticket filed after the archive took the newest
    ticket gets its id. The restore is then refused (PostgreSQL's sequence never reuses one: it restores)."""
    old = age(world.ticket_in("closed"))
    old_id, old_no = old.id, old.tracking_no
    services.archive_closed(cutoff(), commit=db.session.commit)
    newer = world.ticket_in("pending_dispatch")
    db.session.commit()
    if newer.id == old_id:
        with pytest.raises(Conflict, match=newer.tracking_no):
            services.restore([old_no])
        db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(ArchivedTicket)).scalar() == 1
        assert db.session.get(Ticket, old_id).tracking_no == newer.tracking_no
    else:
        assert services.restore([old_no]) == [old_no]
        assert db.session.get(Ticket, old_id).tracking_no == old_no
