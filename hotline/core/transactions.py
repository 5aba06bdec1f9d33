"""How a request's database transaction ends.

Flask-SQLAlchemy ends every request with ROLLBACK. psycopg forgets all its prepared statements on a
ROLLBACK (and sends DEALLOCATE ALL), so pages, which only read, would have every statement parsed and
planned afresh on every request. A clean read ends with COMMIT instead, which for a transaction that
wrote nothing means the same; the connection keeps its prepared statements and PostgreSQL its plans.
"""

from __future__ import annotations

import logging

from flask import Flask, request

from hotline.core.after_commit import has_pending
from hotline.extensions import db

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def end_read_transaction(exc: BaseException | None) -> None:
    """Commit the request's transaction when it only read: a GET that did not fail, holds no changed
    objects and left nothing to send after a commit. Anything else is left to the usual ROLLBACK."""
    if exc is not None or request.method not in READ_METHODS or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted or has_pending(session):
        return
    # The page is built and nothing changed: expiring every loaded object (hundreds on the desk) is wasted work.
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:  # the database went away: the page has been built; the rollback that follows cleans up
        log.warning("could not end a read-only transaction", exc_info=True)
    finally:
        session.expire_on_commit = expire


def init_app(app: Flask) -> None:
    # teardown_request runs before Flask-SQLAlchemy's teardown_appcontext removes the session.
    app.teardown_request(end_read_transaction)
