"""duplicates: an index for the same-address rule (category, address)

Revision ID: c7d2e9f1a3b4
Revises: b3f1c2d4e5a6
Create Date: 2026-11-28 21:50:00

"""
from alembic import op


revision = 'c7d2e9f1a3b4'
down_revision = 'b3f1c2d4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_category_address', ['category_id', 'address'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_category_address')
