"""opinion cases (舆情): cases, their linked tickets and handling notes

Revision ID: e3c4d5e6b7a8
Revises: e5f6a7b8c9d0
Create Date: 2026-12-07 15:40:00

A case opened from a hotspot or an outside item (``opinion_case``), the tickets linked to it
(``opinion_case_ticket``) and the lead unit's handling notes (``opinion_note``). New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e3c4d5e6b7a8'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('opinion_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('lead_unit_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('analysis', sa.Text(), nullable=True),
    sa.Column('response_title', sa.String(length=200), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('review', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('analysed_at', sa.DateTime(), nullable=True),
    sa.Column('handling_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("source IN ('hotspot', 'news', 'post')", name=op.f('ck_opinion_case_source_valid')),
    sa.CheckConstraint("stage IN ('collected', 'analysed', 'handling', 'responded', 'closed')", name=op.f('ck_opinion_case_stage_valid')),
    sa.CheckConstraint("level IN ('general', 'major', 'serious')", name=op.f('ck_opinion_case_level_valid')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_opinion_case_category_id_category')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['org_unit.id'], name=op.f('fk_opinion_case_lead_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_opinion_case_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_case'))
    )
    with op.batch_alter_table('opinion_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_case_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinion_case_lead_unit_id'), ['lead_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinion_case_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinion_case_published_at'), ['published_at'], unique=False)
    op.create_table('opinion_case_ticket',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['opinion_case.id'], name=op.f('fk_opinion_case_ticket_case_id_opinion_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_opinion_case_ticket_ticket_id_ticket'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['user_account.id'], name=op.f('fk_opinion_case_ticket_linked_by_id_user_account')),
    sa.PrimaryKeyConstraint('case_id', 'ticket_id', name=op.f('pk_opinion_case_ticket'))
    )
    with op.batch_alter_table('opinion_case_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_case_ticket_ticket_id'), ['ticket_id'], unique=False)
    op.create_table('opinion_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['opinion_case.id'], name=op.f('fk_opinion_note_case_id_opinion_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_opinion_note_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_opinion_note_author_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_note'))
    )
    with op.batch_alter_table('opinion_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_note_case_id'), ['case_id'], unique=False)


def downgrade():
    op.drop_table('opinion_note')
    op.drop_table('opinion_case_ticket')
    op.drop_table('opinion_case')
