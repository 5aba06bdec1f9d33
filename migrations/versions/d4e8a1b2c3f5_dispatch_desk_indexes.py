"""dispatch desk: indexes for its queues (status, urgency, created_at) and (status, updated_at)

Revision ID: d4e8a1b2c3f5
Revises: c7d2e9f1a3b4
Create Date: 2026-11-28 22:40:00

"""
from alembic import op


revision = 'd4e8a1b2c3f5'
down_revision = 'c7d2e9f1a3b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_status_urgency_created', ['status', 'urgency', 'created_at'], unique=False)
        batch_op.create_index('ix_ticket_status_updated', ['status', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_status_updated')
        batch_op.drop_index('ix_ticket_status_urgency_created')
