"""How a request or a socket finds out who is calling."""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.database import db
from marketplace.extensions import login_manager
from marketplace.web.problems import problem, wants_problem


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"  # phones change networks; "strong" would log them out

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_problem():
            return problem(401, "Unauthorized", "Log in, or send a brand API token as a Bearer token.",
                           headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
