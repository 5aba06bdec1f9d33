"""search: a BRIN index on ticket_search.ticket_id (PostgreSQL)

Search finds the newest matches in id slices: the GIN index on ``tsv`` ANDed with an id range. A BRIN
range bitmap costs next to nothing, so the planner ANDs it in even when it underestimates how many rows
two correlated words match (it multiplies their frequencies); a b-tree range bitmap it often skips and
visits every match instead. SQLite has no such index and needs none (FTS5 filters rowid ranges itself).

Revision ID: b3f1c2d4e5a6
Revises: 8041b1cc3f9f
Create Date: 2026-11-28 21:10:00

"""
from alembic import op


revision = 'b3f1c2d4e5a6'
down_revision = '8041b1cc3f9f'
branch_labels = None
depends_on = None

# Copied from hotline.search.schema as it stands at this revision.
BRIN_INDEX = "ix_ticket_search_recency"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {BRIN_INDEX} ON ticket_search USING brin (ticket_id) WITH (autosummarize = on)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {BRIN_INDEX}")
