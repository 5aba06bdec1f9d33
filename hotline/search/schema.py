"""The search objects each back end builds by hand (the migration runs these statements), and the
Alembic hook that keeps them out of autogenerate: they are not in the models on purpose."""

from __future__ import annotations

import re

FTS_TABLE = "ticket_search_fts"
PG_INDEX = "ix_ticket_search_tsv"
# A BRIN index on ticket_id: the cheap id-range bitmap that search ANDs with the GIN index (its slices).
PG_RECENCY_INDEX = "ix_ticket_search_recency"

# PostgreSQL: the tsvector is a generated column (``to_tsvector('simple', document)``) of the table partitioned
# by ticket id (``hotline.search.partitions``); these indexes are made on the parent, so every partition,
# present and future, gets its own.
PG_INDEXES = [
    f"CREATE INDEX {PG_INDEX} ON ticket_search USING gin (tsv)",
    f"CREATE INDEX {PG_RECENCY_INDEX} ON ticket_search USING brin (ticket_id) WITH (autosummarize = on)",
]
# The partitions (ticket_search_0, …, ticket_search_default) are tables the models do not name.
_PARTITION = re.compile(r"^ticket_search_(\d+|default)$")

# SQLite: FTS5 over the same document; the unicode61 tokenizer splits it on the spaces between tokens.
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(document, content='ticket_search', "
    "content_rowid='ticket_id', tokenize='unicode61')",
    f"""CREATE TRIGGER ticket_search_ai AFTER INSERT ON ticket_search BEGIN
      INSERT INTO {FTS_TABLE}(rowid, document) VALUES (new.ticket_id, new.document); END""",
    f"""CREATE TRIGGER ticket_search_ad AFTER DELETE ON ticket_search BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, document) VALUES ('delete', old.ticket_id, old.document); END""",
    f"""CREATE TRIGGER ticket_search_au AFTER UPDATE ON ticket_search BEGIN
      INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, document) VALUES ('delete', old.ticket_id, old.document);
      INSERT INTO {FTS_TABLE}(rowid, document) VALUES (new.ticket_id, new.document); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ticket_search_au",
    "DROP TRIGGER IF EXISTS ticket_search_ad",
    "DROP TRIGGER IF EXISTS ticket_search_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object``: skip the FTS5 table (and its shadow tables), the search partitions and the
    tsv column/index."""
    if type_ == "table" and name and (name.startswith(FTS_TABLE) or _PARTITION.match(name)):
        return False
    if type_ == "index" and name in (PG_INDEX, PG_RECENCY_INDEX):
        return False
    if type_ == "column" and name == "tsv" and getattr(getattr(obj, "table", None), "name", "") == "ticket_search":
        return False
    return True
