"""unit assessment: periods, frozen scores, objections

Revision ID: e1a2c3d4b5f6
Revises: b6e1f3a5c7d9
Create Date: 2026-12-07 15:40:00

考核 (issue 26 part 1): ``assessment_period`` (a month, quarter or year with its weights and status),
``assessment_score`` (one unit's figures frozen when the period closes) and ``assessment_objection``
(a unit's 申诉 against one ticket's counting, decided by a supervisor). New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e1a2c3d4b5f6'
down_revision = 'b6e1f3a5c7d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('month', 'quarter', 'year')", name=op.f('ck_assessment_period_kind_valid')),
    sa.CheckConstraint("status IN ('open', 'closed', 'released')", name=op.f('ck_assessment_period_status_valid')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_assessment_period_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_assessment_period_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['released_by_id'], ['user_account.id'], name=op.f('fk_assessment_period_released_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_period')),
    sa.UniqueConstraint('kind', 'start', name='uq_assessment_period_kind_start')
    )
    op.create_table('assessment_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('dispatched', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('answered_on_time', sa.Integer(), nullable=False),
    sa.Column('redone', sa.Integer(), nullable=False),
    sa.Column('rated_satisfied', sa.Integer(), nullable=False),
    sa.Column('rated_basically', sa.Integer(), nullable=False),
    sa.Column('rated_unsatisfied', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('orders_on_time', sa.Integer(), nullable=False),
    sa.Column('on_time_rate', sa.Float(), nullable=True),
    sa.Column('return_rate', sa.Float(), nullable=True),
    sa.Column('redo_rate', sa.Float(), nullable=True),
    sa.Column('satisfaction_rate', sa.Float(), nullable=True),
    sa.Column('supervision_rate', sa.Float(), nullable=True),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('deduction', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('excluded', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['assessment_period.id'], name=op.f('fk_assessment_score_period_id_assessment_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_assessment_score_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_score')),
    sa.UniqueConstraint('period_id', 'unit_id', name='uq_assessment_score_period_unit')
    )
    with op.batch_alter_table('assessment_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_score_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_score_unit_id'), ['unit_id'], unique=False)
    op.create_table('assessment_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'upheld', 'rejected')", name=op.f('ck_assessment_objection_status_valid')),
    sa.ForeignKeyConstraint(['period_id'], ['assessment_period.id'], name=op.f('fk_assessment_objection_period_id_assessment_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_assessment_objection_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_assessment_objection_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user_account.id'], name=op.f('fk_assessment_objection_filed_by_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_assessment_objection_decided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_objection')),
    sa.UniqueConstraint('period_id', 'unit_id', 'ticket_id', name='uq_assessment_objection_period_unit_ticket')
    )
    with op.batch_alter_table('assessment_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_objection_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_objection_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_objection_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    op.drop_table('assessment_objection')
    op.drop_table('assessment_score')
    op.drop_table('assessment_period')
