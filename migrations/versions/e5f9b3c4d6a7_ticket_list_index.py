"""ticket list: an index on (created_at, id) for its order, replacing the one on created_at alone

Revision ID: e5f9b3c4d6a7
Revises: d4e8a1b2c3f5
Create Date: 2026-11-29 04:10:00

"""
from alembic import op


revision = 'e5f9b3c4d6a7'
down_revision = 'd4e8a1b2c3f5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.drop_index('ix_ticket_created_at')


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_ticket_created_at_id')
