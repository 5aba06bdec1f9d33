"""Flask extensions, created unbound and attached in ``create_app``."""

import sqlite3
from typing import TYPE_CHECKING, Any

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

from hotline.core import replica

# Stable constraint names so Alembic revisions are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RoutingSession(FlaskSession):
    """Sends the SELECTs of views marked ``@read_from_replica`` to the replica when one is configured and
    fresh enough (hotline.core.replica); everything else, flushes included, to the primary."""

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Engine | Connection | None = None, **kwargs: Any
    ) -> Engine | Connection:
        if bind is None:
            if self._flushing:
                self.info["wrote"] = True  # it must read what it wrote: the primary from now on
            else:
                engine = replica.route(self.info, clause)
                if engine is not None:
                    return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION), session_options={"class_": RoutingSession})

# The models' base class. db.Model is made at run time, so a type checker cannot see it as a class: it
# sees the SQLAlchemy 2.0 declarative base that db.Model is.
if TYPE_CHECKING:

    class Model(DeclarativeBase):
        pass

else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
mail = Mail()
# Keyed by client address; storage, fallback and error swallowing come from RATELIMIT_* config.
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite as the embedded default: enforce foreign keys, let the web app, worker and beat
    share the file (WAL) and wait for a lock instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        from hotline.core.pg import use_lazy_cursors

        use_lazy_cursors(dbapi_connection)
