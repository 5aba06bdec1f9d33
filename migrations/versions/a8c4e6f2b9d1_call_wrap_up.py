"""the wrap-up of calls without a ticket: how an abandoned call was closed, and when

Revision ID: a8c4e6f2b9d1
Revises: d7b2e4a9c1f3
Create Date: 2026-12-07 12:40:00

``phone_call.wrap_up`` (``called_back`` or ``dismissed``) and ``phone_call.wrapped_up_at``: an operator's
abandoned call leaves the console's wrap-up list once marked. Columns only on an existing table (SQLite).
"""
from alembic import op
import sqlalchemy as sa


revision = 'a8c4e6f2b9d1'
down_revision = 'd7b2e4a9c1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('phone_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wrap_up', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('wrapped_up_at', sa.DateTime(), nullable=True))


def downgrade():
    for column in ('wrapped_up_at', 'wrap_up'):
        op.execute(f'ALTER TABLE phone_call DROP COLUMN {column}')
