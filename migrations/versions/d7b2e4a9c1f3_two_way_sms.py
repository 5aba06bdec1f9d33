"""two-way SMS: replies, opt-outs, delivery receipts, the rating's channel

Revision ID: d7b2e4a9c1f3
Revises: c3a7e2f9d1b5
Create Date: 2026-12-07 12:20:00

Citizens' SMS replies (``sms_inbound``, one row per provider message), the phones that opted out of
non-essential SMS (``sms_opt_out``), the provider's id and delivery receipt on each outbox row, and how a
ticket's rating arrived (``ticket.rated_via``). Columns and indexes only on existing tables (SQLite).
"""
from alembic import op
import sqlalchemy as sa


revision = 'd7b2e4a9c1f3'
down_revision = 'c3a7e2f9d1b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IN ('rated', 'noted', 'drafted', 'opted_out', 'refused', 'ignored')", name=op.f('ck_sms_inbound_outcome_valid')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_sms_inbound_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_sms_inbound_handled_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('provider', 'message_id', name=op.f('uq_sms_inbound_provider'))
    )
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_inbound_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_inbound_ticket_id'), ['ticket_id'], unique=False)
    op.create_table('sms_opt_out',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_out'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('receipt', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('receipt_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_provider_ref'), ['provider_ref'], unique=False)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rated_via', sa.String(length=8), nullable=True))


def downgrade():
    op.drop_index(op.f('ix_notification_provider_ref'), table_name='notification')
    for table, column in (('ticket', 'rated_via'), ('notification', 'receipt_at'), ('notification', 'receipt'),
                          ('notification', 'provider_ref')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    op.drop_table('sms_opt_out')
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_inbound_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_sms_inbound_phone'))
    op.drop_table('sms_inbound')
