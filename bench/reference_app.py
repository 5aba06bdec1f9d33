"""The benchmark's yardstick: a thin Flask endpoint that inserts one ticket-like row per POST.

Run by ``bench/intake.py`` under gunicorn against the same PostgreSQL database as the real app:
``BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 bench.reference_app:app``.
"""
import os
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, jsonify, request

metadata = sa.MetaData()
reference_ticket = sa.Table(
    "bench_reference_ticket", metadata,
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
            new_id = conn.execute(reference_ticket.insert().values(
                appeal_type=data["appeal_type"], title=data["title"], body=data["body"],
                citizen_phone=data["citizen_phone"], address=data.get("address"),
                created_at=datetime.now(timezone.utc).replace(tzinfo=None)).returning(reference_ticket.c.id)
            ).scalar_one()
        return jsonify({"id": new_id}), 201

    return app


app = create_app() if os.environ.get("BENCH_DATABASE_URL") else None
