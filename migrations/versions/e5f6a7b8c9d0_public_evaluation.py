"""public evaluation (社会监督评议): questionnaires, questions, responses, answers; the evaluator role

Revision ID: e5f6a7b8c9d0
Revises: e2b3d4c5a6f7
Create Date: 2026-12-07 15:30:00

Four new tables (hotline.evaluation.models) and a wider CHECK on ``user_role.role`` for the new role
``evaluator`` (人大代表 / 政协委员). On SQLite batch mode recreates ``user_role`` to change its CHECK: no table
references ``user_role`` by a foreign key, so the copy-and-drop is safe there (unlike user_account).
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5f6a7b8c9d0'
down_revision = 'e2b3d4c5a6f7'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('citizen', 'operator', 'dispatcher', 'handler', 'supervisor', 'admin')"
NEW_ROLES = "role IN ('citizen', 'operator', 'dispatcher', 'handler', 'supervisor', 'admin', 'evaluator')"


def _role_check(condition):
    with op.batch_alter_table('user_role', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_role_role_valid'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_role_role_valid'), condition)


def upgrade():
    op.create_table('eval_questionnaire',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'published')", name=op.f('ck_eval_questionnaire_status_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_questionnaire'))
    )
    op.create_index(op.f('ix_eval_questionnaire_year'), 'eval_questionnaire', ['year'], unique=False)
    op.create_table('eval_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('score', 'choice')", name=op.f('ck_eval_question_kind_valid')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['eval_questionnaire.id'], name=op.f('fk_eval_question_questionnaire_id_eval_questionnaire'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_question'))
    )
    op.create_index(op.f('ix_eval_question_questionnaire_id'), 'eval_question', ['questionnaire_id'], unique=False)
    op.create_table('eval_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('respondent_kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("respondent_kind IN ('citizen', 'evaluator')", name=op.f('ck_eval_response_respondent_kind_valid')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['eval_questionnaire.id'], name=op.f('fk_eval_response_questionnaire_id_eval_questionnaire'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_eval_response_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_eval_response_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_eval_response_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_response')),
    sa.UniqueConstraint('questionnaire_id', 'unit_id', 'ticket_id', name='uq_eval_response_ticket'),
    sa.UniqueConstraint('questionnaire_id', 'unit_id', 'user_id', name='uq_eval_response_user')
    )
    op.create_index(op.f('ix_eval_response_questionnaire_id'), 'eval_response', ['questionnaire_id'], unique=False)
    op.create_index(op.f('ix_eval_response_unit_id'), 'eval_response', ['unit_id'], unique=False)
    op.create_table('eval_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['eval_question.id'], name=op.f('fk_eval_answer_question_id_eval_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['eval_response.id'], name=op.f('fk_eval_answer_response_id_eval_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eval_answer')),
    sa.UniqueConstraint('response_id', 'question_id', name='uq_eval_answer_question')
    )
    op.create_index(op.f('ix_eval_answer_question_id'), 'eval_answer', ['question_id'], unique=False)
    op.create_index(op.f('ix_eval_answer_response_id'), 'eval_answer', ['response_id'], unique=False)
    _role_check(NEW_ROLES)


def downgrade():
    op.execute("DELETE FROM user_role WHERE role = 'evaluator'")
    _role_check(OLD_ROLES)
    op.drop_table('eval_answer')
    op.drop_table('eval_response')
    op.drop_table('eval_question')
    op.drop_table('eval_questionnaire')
