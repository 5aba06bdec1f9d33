"""Every table that points at a ticket, or at a row a ticket owns, has a rule in the archive: a new table
cannot be forgotten by ``flask archive`` (its rows would block the delete, or be lost)."""

import hotline.models  # noqa: F401  (the whole schema)
from hotline.archive.services import DERIVED, DETACHED, KEEPS_HOT, OWNED
from hotline.extensions import db


def test_every_reference_to_a_ticket_or_its_rows_has_a_rule():
    owned = set(OWNED)
    cited = {(table, column) for table, column, _ in KEEPS_HOT}
    unruled = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if target not in owned or table.name in owned or table.name in DERIVED:
                continue
            if DETACHED.get(table.name) == fk.parent.name or (table.name, fk.parent.name) in cited:
                continue
            unruled.append(f"{table.name}.{fk.parent.name} -> {target}")
    assert unruled == []


def test_the_rules_name_real_tables_and_columns():
    tables = db.metadata.tables
    for name in (*OWNED, *DERIVED):
        assert name in tables
    for name, column in DETACHED.items():
        assert tables[name].c[column].nullable
    for name, column, owned in KEEPS_HOT:
        assert owned in OWNED and column in tables[name].c
    # the restore inserts parents first: every owned table's owned parents come before it
    for position, name in enumerate(OWNED):
        for fk in tables[name].foreign_keys:
            parent = fk.column.table.name
            if parent in OWNED and parent != name:
                assert OWNED.index(parent) < position, f"{name} before its parent {parent}"
