"""ticket archive: tickets closed more than N years ago, kept whole and restorable

Revision ID: f6a7b8c9d0e1
Revises: e4d5e6f7c8b9
Create Date: 2026-12-07 20:20:00

``flask archive`` moves a ticket closed long ago, with the rows it owns, into one ``archived_ticket`` row
(JSON payload) and out of the working tables; ``flask archive restore`` puts it back. New table only.
"""

from alembic import op
import sqlalchemy as sa


revision = "f6a7b8c9d0e1"
down_revision = "e4d5e6f7c8b9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "archived_ticket",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tracking_no", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("citizen_phone", sa.String(length=20), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("last_changed_at", sa.DateTime(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_archived_ticket")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_archived_ticket_tracking_no")),
    )
    with op.batch_alter_table("archived_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archived_ticket_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_archived_ticket_merged_into_id"), ["merged_into_id"], unique=False)


def downgrade():
    with op.batch_alter_table("archived_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archived_ticket_merged_into_id"))
        batch_op.drop_index(batch_op.f("ix_archived_ticket_closed_at"))
    op.drop_table("archived_ticket")
