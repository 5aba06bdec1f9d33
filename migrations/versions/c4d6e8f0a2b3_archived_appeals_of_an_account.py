"""archived appeals of a citizen account: the account's id on an archived ticket, and an index of a caller's
archived appeals by phone and closing time

Revision ID: c4d6e8f0a2b3
Revises: c4d5e6f7a8b9
Create Date: 2026-12-08 02:30:00

A citizen's "my appeals" lists the archived ones as well, by the rule of its live ones (the account's phone or
the account that filed it). The account's id was kept only inside the payload: the upgrade copies it out of the
payloads that hold one (one pass over the archive; those without an account are skipped by a text match first).
"""

from alembic import op
import sqlalchemy as sa


revision = "c4d6e8f0a2b3"
down_revision = "c4d5e6f7a8b9"
branch_labels = None
depends_on = None

NO_ACCOUNT = '%"citizen_user_id":null%'  # how the archive writes a payload without an account


def upgrade():
    with op.batch_alter_table("archived_ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("citizen_user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_archived_ticket_citizen_user_id"), ["citizen_user_id"], unique=False)
        batch_op.create_index("ix_archived_ticket_citizen_phone_closed", ["citizen_phone", "closed_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        account = "CAST(CAST(payload AS json) -> 'tables' -> 'ticket' -> 0 ->> 'citizen_user_id' AS integer)"
    else:
        account = "json_extract(payload, '$.tables.ticket[0].citizen_user_id')"
    op.get_bind().execute(
        sa.text(f"UPDATE archived_ticket SET citizen_user_id = {account} WHERE payload NOT LIKE :none"),
        {"none": NO_ACCOUNT},
    )


def downgrade():
    with op.batch_alter_table("archived_ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_archived_ticket_citizen_phone_closed")
        batch_op.drop_index(batch_op.f("ix_archived_ticket_citizen_user_id"))
        batch_op.drop_column("citizen_user_id")
