"""Page guards by role."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Send anonymous people to log in; refuse logged-in people of other roles with 403."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.is_token or str(current_user.role) not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
