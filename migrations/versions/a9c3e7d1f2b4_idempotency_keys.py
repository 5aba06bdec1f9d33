"""idempotency keys: the first answer of a POST retried with the same Idempotency-Key

Revision ID: a9c3e7d1f2b4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 01:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a9c3e7d1f2b4'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=100), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_sha256', sa.String(length=64), nullable=False),
        sa.Column('response_status', sa.Integer(), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('response_content_type', sa.String(length=100), nullable=False),
        sa.Column('response_location', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
        sa.UniqueConstraint('scope', 'key', name='uq_idempotency_key_scope_key'),
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_key_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_key_created_at'))
    op.drop_table('idempotency_key')
