"""How a request or a socket finds out who is calling.

A logged-in browser's cookies (the session cookie and the remember-me cookie alike) carry the secret of a
server-side session, not the user's id: Flask-Login stores whatever sits in `session["_user_id"]` and hands it
back to the user loader, which lets the caller in only while that session is live.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, decode_cookie, user_logged_in
from flask_login.config import COOKIE_DURATION, COOKIE_NAME

from marketplace.accounts import sessions
from marketplace.accounts.models import User
from marketplace.extensions import login_manager
from marketplace.web.problems import problem, wants_problem

SESSION_ID_KEY = "_user_id"  # Flask-Login's key, read back into the remember-me cookie


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"  # phones change networks; "strong" would log them out
    login_manager.user_loader(load_user)
    user_logged_in.connect(start_session, app)  # every login_user(), wherever it is called

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_problem():
            return problem(401, "Unauthorized", "Log in, or send a brand API token as a Bearer token.",
                           headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def start_session(app: Flask, user: User, **_: object) -> None:
    """Open a server-side session for the user login_user() just let in; the cookies carry its secret."""
    remembered = session.get("_remember") == "set"
    lasts = _remember_duration(app) if remembered else app.permanent_session_lifetime
    started = sessions.start(user, remembered=remembered, lasts=lasts,
                             user_agent=request.headers.get("User-Agent"), ip=request.remote_addr)
    session[SESSION_ID_KEY] = started.secret
    g.login_session_id = started.id


def load_user(secret: str) -> User | None:
    """The user of the live session this secret opens; None (a visitor) for an ended, expired or unknown one."""
    found = sessions.find_live(secret, idle=current_app.permanent_session_lifetime)
    if found is None or not found[1].is_active:
        _forget(secret)
        return None
    g.login_session_id = found[0].id
    return found[1]


def current_session_id() -> int | None:
    """The id of the session this request is logged in with; None for visitors and API tokens."""
    if not current_user.is_authenticated:  # loads the user, and with it the session
        return None
    return g.get("login_session_id")


def _forget(secret: str) -> None:
    """Drop a dead secret from the session, and have the browser delete a remember-me cookie holding it."""
    if session.get(SESSION_ID_KEY) == secret:
        session.pop(SESSION_ID_KEY)
        session.pop("_fresh", None)
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))
    if cookie and decode_cookie(cookie) == secret:
        session["_remember"] = "clear"


def _remember_duration(app: Flask) -> dt.timedelta:
    """How long the remember-me cookie set by this log-in lasts, as Flask-Login computes it."""
    if "_remember_seconds" in session:
        return dt.timedelta(seconds=session["_remember_seconds"])
    duration = app.config.get("REMEMBER_COOKIE_DURATION", COOKIE_DURATION)
    return dt.timedelta(seconds=duration) if isinstance(duration, int) else duration
