"""counts that stay flat with history: open-work flag on assignments, stored counts of final tickets per scope,
a caller's appeals by phone and time, open tickets by place and time, ratings by time (covering), the card boards on open tickets, the callback list by time

Revision ID: a1b2c3d4e5f7
Revises: f6a7b8c9d0e1
Create Date: 2026-12-07 23:40:00

``assignment.ticket_open`` (false once the ticket is final) and the partial index of open work let the
workspace and the open statuses' counts read a unit's open work alone; ``scope_final_count`` holds per scope
unit, kind and final status how many tickets it reads (``hotline.tickets.counts``). The upgrade fills both
from the tickets: on a large database it rewrites every assignment row once (minutes at ten million tickets).
The index on (citizen_phone, created_at) replaces the one on citizen_phone alone; the duplicate hints read the
newest open tickets of a (category, district) from a partial index; on PostgreSQL the index of ratings by time
carries what the dashboard's ratings by channel count (an index-only scan); the red and yellow boards' index holds
open tickets only (closed tickets keep their cards); the callback list reads its newest tickets from a partial
index of the tickets waiting for a callback and the merged ones.
"""

from alembic import op
import sqlalchemy as sa


revision = "a1b2c3d4e5f7"
down_revision = "f6a7b8c9d0e1"
branch_labels = None
depends_on = None

FINAL = "('answered_directly', 'closed', 'merged', 'not_accepted', 'transferred')"
ACTIVE = "('answered', 'dispatched', 'signed')"
CALLBACK = "status IN ('pending_callback', 'merged')"
OPEN = (
    "status IN ('dispatched', 'in_progress', 'pending_callback', 'pending_dispatch', 'pending_review', 'replied', "
    "'return_requested', 'suspended')"
)


def upgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_open", sa.Boolean(), server_default=sa.text("true"), nullable=False))
    op.execute(
        "UPDATE assignment SET ticket_open = false "
        f"WHERE ticket_id IN (SELECT id FROM ticket WHERE status IN {FINAL})"
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignment_open_work",
            ["unit_id", "status", "ticket_id"],
            unique=False,
            postgresql_where=sa.text("ticket_open"),
            sqlite_where=sa.text("ticket_open"),
        )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_citizen_phone_created", ["citizen_phone", "created_at"], unique=False)
        batch_op.drop_index("ix_ticket_citizen_phone")
        batch_op.create_index(
            "ix_ticket_open_place_created",
            ["category_id", "district_id", "created_at"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_rated_at_cover",
            ["rated_at"],
            unique=False,
            postgresql_include=["rated_via", "satisfaction", "status", "lead_unit_id"],
        )
        batch_op.drop_index("ix_ticket_rated_at")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_open_warning_board",
            ["warning_level", "answer_deadline_at", "id", "status", "district_id", "lead_unit_id"],
            unique=False,
            postgresql_where=sa.text(f"warning_level <> 'none' AND {OPEN}"),
            sqlite_where=sa.text(f"warning_level <> 'none' AND {OPEN}"),
        )
        batch_op.drop_index(
            "ix_ticket_warning_board",
            postgresql_where=sa.text("warning_level <> 'none'"),
            sqlite_where=sa.text("warning_level <> 'none'"),
        )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_callback_created",
            ["created_at", "id"],
            unique=False,
            postgresql_where=sa.text(CALLBACK),
            sqlite_where=sa.text(CALLBACK),
        )
    op.create_table(
        "scope_final_count",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["org_unit.id"], name=op.f("fk_scope_final_count_unit_id_org_unit")),
        sa.PrimaryKeyConstraint("unit_id", "kind", "status", name=op.f("pk_scope_final_count")),
    )
    # The same counts as hotline.tickets.counts._contributions, written out: a migration does not import the app.
    assigned = (
        "SELECT t.id AS ticket_id, t.status, above.id AS unit_id FROM ticket t "
        f"JOIN assignment a ON a.ticket_id = t.id AND a.status IN {ACTIVE} "
        "JOIN org_unit at ON at.id = a.unit_id JOIN org_unit above ON at.path LIKE above.path || '%' "
        f"WHERE t.status IN {FINAL}"
    )
    taken_in = (
        "SELECT t.id AS ticket_id, t.status, above.id AS unit_id FROM ticket t "
        "JOIN org_unit at ON at.id = t.intake_unit_id JOIN org_unit above ON at.path LIKE above.path || '%' "
        f"WHERE t.status IN {FINAL}"
    )
    op.execute(
        "INSERT INTO scope_final_count (unit_id, kind, status, n) "
        f"SELECT unit_id, 'handler', status, count(DISTINCT ticket_id) FROM ({assigned}) h GROUP BY unit_id, status"
    )
    op.execute(
        "INSERT INTO scope_final_count (unit_id, kind, status, n) "
        f"SELECT unit_id, 'staff', status, count(DISTINCT ticket_id) FROM ({assigned} UNION {taken_in}) s "
        "GROUP BY unit_id, status"
    )


def downgrade():
    op.drop_table("scope_final_count")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_callback_created", postgresql_where=sa.text(CALLBACK), sqlite_where=sa.text(CALLBACK))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_warning_board",
            ["warning_level", "answer_deadline_at", "id", "status", "district_id", "lead_unit_id"],
            unique=False,
            postgresql_where=sa.text("warning_level <> 'none'"),
            sqlite_where=sa.text("warning_level <> 'none'"),
        )
        batch_op.drop_index(
            "ix_ticket_open_warning_board",
            postgresql_where=sa.text(f"warning_level <> 'none' AND {OPEN}"),
            sqlite_where=sa.text(f"warning_level <> 'none' AND {OPEN}"),
        )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_rated_at", ["rated_at"], unique=False)
        batch_op.drop_index("ix_ticket_rated_at_cover")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_open_place_created", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index("ix_ticket_citizen_phone", ["citizen_phone"], unique=False)
        batch_op.drop_index("ix_ticket_citizen_phone_created")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_open_work", sqlite_where=sa.text("ticket_open"), postgresql_where=sa.text("ticket_open"))
        batch_op.drop_column("ticket_open")
