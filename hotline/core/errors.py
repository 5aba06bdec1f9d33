"""Domain errors. Views, the API and the CLI turn each into a clear answer."""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A refused operation. Nothing was changed."""

    status_code = 400
    default_message = _l("The request was refused.")

    def __init__(self, message=None, *, field: str | None = None, fields: dict | None = None):
        self.message = message or self.default_message
        self.field = field or (next(iter(fields)) if fields else None)
        # Every field's message at once, so a form or an API client can fix all of them in one go.
        self.fields = fields or ({field: self.message} if field else {})
        super().__init__(str(self.message))


class NotFound(DomainError):
    status_code = 404
    default_message = _l("Not found.")


class PermissionDenied(DomainError):
    status_code = 403
    default_message = _l("You are not allowed to do that.")


class InvalidTransition(DomainError):
    status_code = 409
    default_message = _l("This action is not possible in the ticket's current state.")


class Conflict(DomainError):
    status_code = 409
    default_message = _l("Someone else changed this ticket at the same time. Reload and try again.")


class ValidationFailed(DomainError):
    status_code = 400
    default_message = _l("The input is not valid.")


RETRY_AFTER_SECONDS = 30  # what a 503 asks a client to wait: a PostgreSQL restart or fail-over takes about this


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (down, restarting, pool exhausted), not that a
    statement was wrong: the answer is then 503 with Retry-After, not a 500."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
