"""online interviews and press conferences: sessions and citizens' questions

Revision ID: e4d5e6f7c8b9
Revises: e3c4d5e6b7a8
Create Date: 2026-12-07 15:30:00

An interview or press conference with a unit's head (``interview_session``) and the questions citizens send
before and during it (``interview_question``: the text as sent and its scrubbed public text, the asker's
private name and phone, moderation, the live answer, the follow-up ticket). New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e4d5e6f7c8b9'
down_revision = 'e3c4d5e6b7a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('interview_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('guests', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('interview', 'press')", name=op.f('ck_interview_session_kind_valid')),
    sa.CheckConstraint("status IN ('scheduled', 'live', 'ended', 'published')", name=op.f('ck_interview_session_status_valid')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_interview_session_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_interview_session_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_interview_session_ended_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_session'))
    )
    with op.batch_alter_table('interview_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_session_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_interview_session_starts_at', ['starts_at'], unique=False)
    op.create_table('interview_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=True),
    sa.Column('asker_name', sa.String(length=32), nullable=True),
    sa.Column('asker_phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('no_ticket_reason', sa.String(length=16), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'answered')", name=op.f('ck_interview_question_status_valid')),
    sa.ForeignKeyConstraint(['session_id'], ['interview_session.id'], name=op.f('fk_interview_question_session_id_interview_session')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['user_account.id'], name=op.f('fk_interview_question_moderated_by_id_user_account')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_interview_question_answered_by_id_user_account')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_interview_question_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_question')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_interview_question_ticket_id'))
    )
    with op.batch_alter_table('interview_question', schema=None) as batch_op:
        batch_op.create_index('ix_interview_question_session_status', ['session_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_question_answered_at'), ['answered_at'], unique=False)


def downgrade():
    with op.batch_alter_table('interview_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_question_answered_at'))
        batch_op.drop_index('ix_interview_question_session_status')
    op.drop_table('interview_question')
    with op.batch_alter_table('interview_session', schema=None) as batch_op:
        batch_op.drop_index('ix_interview_session_starts_at')
        batch_op.drop_index(batch_op.f('ix_interview_session_unit_id'))
    op.drop_table('interview_session')
