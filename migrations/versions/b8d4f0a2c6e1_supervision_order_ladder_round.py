"""supervision orders: the ladder's stage and round on each 督办单 it issues, at most one per ticket × stage × round

Revision ID: b8d4f0a2c6e1
Revises: a9c3e7d1f2b4
Create Date: 2026-12-07 01:20:00

Orders the ladder issued before this revision get their stage (red) and round (the watched clock's kind
and deadline) from the red-card event the same sweep wrote with them (same ticket, same moment). Where a
ticket already holds two ladder orders for one stage and round (a reply sent back after its deadline
re-armed the ladder), the oldest keeps the round and the later ones keep none: they stay in the history
as they were, and the partial unique index only holds the keyed ones.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = 'b8d4f0a2c6e1'
down_revision = 'a9c3e7d1f2b4'
branch_labels = None
depends_on = None

RED = 2


def _utc_naive(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def upgrade():
    with op.batch_alter_table('supervision_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ladder_stage', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('clock_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('clock_deadline_at', sa.DateTime(), nullable=True))

    conn = op.get_bind()
    orders = sa.table('supervision_order', sa.column('id'), sa.column('ticket_id'), sa.column('source'),
                      sa.column('created_at'), sa.column('ladder_stage'), sa.column('clock_kind'),
                      sa.column('clock_deadline_at'))
    events = sa.table('ticket_event', sa.column('ticket_id'), sa.column('action'), sa.column('created_at'),
                      sa.column('data', sa.JSON))
    ladder = conn.execute(sa.select(orders.c.id, orders.c.ticket_id, orders.c.created_at)
                          .where(orders.c.source == 'ladder').order_by(orders.c.id)).all()
    if not ladder:
        _create_index()
        return
    red_cards = {}
    for ticket_id, created_at, data in conn.execute(
            sa.select(events.c.ticket_id, events.c.created_at, events.c.data).where(events.c.action == 'red_card')):
        red_cards[(ticket_id, created_at)] = data or {}
    seen, rows = set(), []
    for order_id, ticket_id, created_at in ladder:  # oldest first: the oldest keeps its round
        data = red_cards.get((ticket_id, created_at))
        if data is None:
            continue
        kind, deadline = data.get('clock'), _utc_naive(data.get('deadline'))
        if kind is None or deadline is None or (ticket_id, kind, deadline) in seen:
            continue
        seen.add((ticket_id, kind, deadline))
        rows.append({'b_id': order_id, 'stage': RED, 'kind': kind, 'deadline': deadline})
    if rows:
        conn.execute(orders.update().where(orders.c.id == sa.bindparam('b_id')).values(
            ladder_stage=sa.bindparam('stage'), clock_kind=sa.bindparam('kind'),
            clock_deadline_at=sa.bindparam('deadline')), rows)
    _create_index()


def _create_index():
    op.create_index('uq_supervision_order_ladder_round', 'supervision_order',
                    ['ticket_id', 'ladder_stage', 'clock_kind', 'clock_deadline_at'], unique=True,
                    sqlite_where=sa.text("source = 'ladder'"), postgresql_where=sa.text("source = 'ladder'"))


def downgrade():
    op.drop_index('uq_supervision_order_ladder_round', table_name='supervision_order')
    with op.batch_alter_table('supervision_order', schema=None) as batch_op:
        batch_op.drop_column('clock_deadline_at')
        batch_op.drop_column('clock_kind')
        batch_op.drop_column('ladder_stage')
