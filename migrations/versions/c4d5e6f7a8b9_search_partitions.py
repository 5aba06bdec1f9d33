"""search index in partitions of ticket ids (PostgreSQL), so a search reads the GIN index of the years it needs

Revision ID: c4d5e6f7a8b9
Revises: a1b2c3d4e5f7
Create Date: 2026-12-08 03:00:00

``ticket_search`` becomes a table partitioned by ranges of ``ticket_id`` (1,000,000 ids each, and a DEFAULT
partition for ids past the last range), each with its own GIN and BRIN index (``hotline.search.partitions``).
The upgrade copies the rows into the new table and builds the indexes once (minutes at ten million tickets;
``flask search reindex`` afterwards is not needed). SQLite keeps its FTS5 table.
"""

from alembic import op


revision = "c4d5e6f7a8b9"
down_revision = "a1b2c3d4e5f7"
branch_labels = None
depends_on = None

# Copied from hotline.search.schema / partitions as they stand at this revision.
WIDTH = 1_000_000
TSV = "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, document)) STORED"
INDEXES = [
    "CREATE INDEX ix_ticket_search_tsv ON ticket_search USING gin (tsv)",
    "CREATE INDEX ix_ticket_search_recency ON ticket_search USING brin (ticket_id) WITH (autosummarize = on)",
]


def _table(partitioned: bool) -> str:
    return (
        "CREATE TABLE ticket_search (ticket_id integer NOT NULL, document text NOT NULL, "
        f"updated_at timestamp without time zone NOT NULL, {TSV}, "
        "CONSTRAINT pk_ticket_search PRIMARY KEY (ticket_id), "
        "CONSTRAINT fk_ticket_search_ticket_id_ticket FOREIGN KEY (ticket_id) REFERENCES ticket (id) "
        "ON DELETE CASCADE)" + (" PARTITION BY RANGE (ticket_id)" if partitioned else "")
    )


def _swap(partitioned: bool) -> None:
    """Move the rows into a new ticket_search table, partitioned or plain."""
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_tsv")
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_recency")
    op.execute("ALTER TABLE ticket_search RENAME TO ticket_search_old")
    op.execute("ALTER TABLE ticket_search_old RENAME CONSTRAINT pk_ticket_search TO pk_ticket_search_old")
    op.execute(
        "ALTER TABLE ticket_search_old RENAME CONSTRAINT fk_ticket_search_ticket_id_ticket "
        "TO fk_ticket_search_old_ticket_id_ticket"
    )
    op.execute(_table(partitioned))
    if partitioned:
        newest = op.get_bind().exec_driver_sql("SELECT coalesce(max(id), 0) FROM ticket").scalar()
        for lower in range(0, (newest // WIDTH + 2) * WIDTH, WIDTH):  # one range past the newest id
            op.execute(
                f"CREATE TABLE ticket_search_{lower} PARTITION OF ticket_search "
                f"FOR VALUES FROM ({lower}) TO ({lower + WIDTH})"
            )
        op.execute("CREATE TABLE ticket_search_default PARTITION OF ticket_search DEFAULT")
    op.execute(
        "INSERT INTO ticket_search (ticket_id, document, updated_at) "
        "SELECT ticket_id, document, updated_at FROM ticket_search_old"
    )
    op.execute("DROP TABLE ticket_search_old")
    for statement in INDEXES:
        op.execute(statement)
    op.execute("ANALYZE ticket_search")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=False)
