"""The benchmark's yardstick: a thin Flask endpoint that inserts one ticket-like row per POST.

Run by ``bench/intake.py`` under gunicorn against the same PostgreSQL database as the real app:
``BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 bench.reference_app:app``.

``POST /tickets`` (issue 3's yardstick) writes six columns into a table with a primary key only.
``POST /tickets/full``, for comparison, writes a row of the ticket's own shape into ``bench_reference_full``, a
copy of the ``ticket`` table's definition with all its indexes (``bench/intake.py`` creates it): the same thin
endpoint, storing the row as the real table must.
"""

import os
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, jsonify, request

metadata = sa.MetaData()
reference_ticket = sa.Table(
    "bench_reference_ticket",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("appeal_type", sa.String(16), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("citizen_phone", sa.String(20), nullable=False),
    sa.Column("address", sa.String(255)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


def create_app(url: str | None = None) -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(url or os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)

    @app.post("/tickets")
    def create():
        data = request.get_json()
        with engine.begin() as conn:
            new_id = conn.execute(
                reference_ticket.insert()
                .values(
                    appeal_type=data["appeal_type"],
                    title=data["title"],
                    body=data["body"],
                    citizen_phone=data["citizen_phone"],
                    address=data.get("address"),
                    created_at=datetime.now(UTC).replace(tzinfo=None),
                )
                .returning(reference_ticket.c.id)
            ).scalar_one()
        return jsonify({"id": new_id}), 201

    try:
        full = sa.Table("bench_reference_full", sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        return app

    @app.post("/tickets/full")
    def create_full():
        data = request.get_json()
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            new_id = conn.execute(
                full.insert()
                .values(
                    tracking_no=uuid.uuid4().hex[:14],
                    channel="api",
                    appeal_type=data["appeal_type"],
                    urgency="normal",
                    title=data["title"],
                    body=data["body"],
                    address=data.get("address"),
                    citizen_name=data.get("citizen_name"),
                    citizen_phone=data["citizen_phone"],
                    confidential=False,
                    allow_publish=False,
                    status="pending_review",
                    intake_unit_id=1,
                    deadline_provisional=False,
                    warning_level="none",
                    escalation_level=0,
                    dispatch_count=0,
                    redo_count=0,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                .returning(full.c.id)
            ).scalar_one()
        return jsonify({"id": new_id}), 201

    return app


app = create_app() if os.environ.get("BENCH_DATABASE_URL") else None
