"""ticket: an index on rated_at, for the ratings of a period by channel and the ratings without a call

Revision ID: b6e1f3a5c7d9
Revises: a8c4e6f2b9d1
Create Date: 2026-12-07 13:00:00

The dashboard's 满意率 by channel counts a period's ratings and the callback list shows the last days' ratings
that came without a call; both read ``ticket.rated_at`` by range. An index only (SQLite).
"""
from alembic import op


revision = 'b6e1f3a5c7d9'
down_revision = 'a8c4e6f2b9d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_ticket_rated_at', 'ticket', ['rated_at'], unique=False)


def downgrade():
    op.drop_index('ix_ticket_rated_at', table_name='ticket')
