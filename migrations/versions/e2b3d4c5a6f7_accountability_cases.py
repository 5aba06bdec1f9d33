"""accountability cases (责任追究)

Revision ID: e2b3d4c5a6f7
Revises: e1a2c3d4b5f6
Create Date: 2026-12-07 15:40:00

One table, ``accountability_case``: a unit (and optionally a named official) held to account for a ticket's
red card, unsatisfied redo or supervision order; the measure, the rectification report and its review.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e2b3d4c5a6f7'
down_revision = 'e1a2c3d4b5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accountability_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('official_name', sa.String(length=80), nullable=True),
    sa.Column('origin', sa.String(length=17), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('supervision_order_id', sa.Integer(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('measure', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('report_due_at', sa.DateTime(), nullable=False),
    sa.Column('review_due_at', sa.DateTime(), nullable=False),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('report_submitted_at', sa.DateTime(), nullable=True),
    sa.Column('report_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('overdue_notified_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("origin IN ('red_card', 'redo', 'supervision_order')", name=op.f('ck_accountability_case_origin_valid')),
    sa.CheckConstraint("measure IN ('interview', 'criticism', 'discipline')", name=op.f('ck_accountability_case_measure_valid')),
    sa.CheckConstraint("status IN ('opened', 'report_submitted', 'returned', 'closed')", name=op.f('ck_accountability_case_status_valid')),
    sa.CheckConstraint('ticket_id IS NOT NULL OR supervision_order_id IS NOT NULL', name=op.f('ck_accountability_case_has_origin')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_accountability_case_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_accountability_case_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['supervision_order_id'], ['supervision_order.id'], name=op.f('fk_accountability_case_supervision_order_id_supervision_order')),
    sa.ForeignKeyConstraint(['report_by_id'], ['user_account.id'], name=op.f('fk_accountability_case_report_by_id_user_account')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_accountability_case_reviewed_by_id_user_account')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_accountability_case_opened_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accountability_case'))
    )
    with op.batch_alter_table('accountability_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accountability_case_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_case_supervision_order_id'), ['supervision_order_id'], unique=False)
        batch_op.create_index('ix_accountability_case_unit_opened', ['unit_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('accountability_case', schema=None) as batch_op:
        batch_op.drop_index('ix_accountability_case_unit_opened')
        batch_op.drop_index(batch_op.f('ix_accountability_case_supervision_order_id'))
        batch_op.drop_index(batch_op.f('ix_accountability_case_ticket_id'))
    op.drop_table('accountability_case')
