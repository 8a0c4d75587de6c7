"""One language per person: the language a user last chose is the one everything sent to them speaks.

A user's `locale` is saved when they switch language, and, while they never chose one, from their browser
when they log in, accept an invitation or sign up. Notifications and e-mails are written inside
`in_language_of(recipient)`; someone who never told us falls back to the app's default language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from flask import current_app, has_request_context, request
from flask_babel import force_locale

from marketplace.accounts.models import User
from marketplace.i18n import LOCALE_COOKIE


def supported(code: str | None) -> str | None:
    """The language this app speaks for a locale code ("fr", "en-GB", "fr_FR"), or None when it speaks none."""
    if not code:
        return None
    language = code.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in current_app.config["LANGUAGES"] else None


def language_of(user: User | None) -> str:
    """The language to write to `user` in: the one they last chose, else the app's default."""
    return supported(getattr(user, "locale", None)) or current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_language(code: str | None) -> Iterator[None]:
    """Translate inside the block into `code`'s language when the app speaks it, else the default language."""
    with force_locale(supported(code) or current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def in_language_of(user: User | None) -> AbstractContextManager[None]:
    """Translate inside the block into the language of the person it is written for."""
    return in_language(language_of(user))


def browser_language() -> str | None:
    """The language this browser asked for: the one picked in the footer (its cookie), else its
    Accept-Language; None when it says nothing we speak."""
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    return supported(request.cookies.get(LOCALE_COOKIE)) or request.accept_languages.best_match(languages)


def chosen_language() -> str | None:
    """The language this browser's person picked in the footer (its cookie, set only by that choice), if any."""
    return supported(request.cookies.get(LOCALE_COOKIE)) if has_request_context() else None


def remember_language(user: User, code: str | None, *, chosen: bool = False) -> None:
    """Save a language for the user (the caller commits): one they just `chosen` always, the browser's only
    while they never chose one."""
    language = supported(code)
    if language is not None and (chosen or user.locale is None):
        user.locale = language
