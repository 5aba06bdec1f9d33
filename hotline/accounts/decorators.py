"""View guards: a login plus at least one of the given roles."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from hotline.accounts.models import Role


def roles_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
