"""French and English: the locale comes from the user, then a cookie, then the browser."""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_login import current_user

from marketplace.extensions import babel

LOCALE_COOKIE = "lang"
CATALOGS = Path(__file__).resolve().parent / "translations"


def compile_catalogs(target: Path) -> Path:
    """Compile each .po catalogue to .mo under `target` when missing or stale; return `target`."""
    for po_path in CATALOGS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(CATALOGS).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        # A temporary file of this process's own, then an atomic rename: processes starting at once (test
        # workers, web processes) each write whole files and never read half of one.
        with tempfile.NamedTemporaryFile(dir=mo_path.parent, prefix="messages.", suffix=".tmp",
                                         delete=False) as mo_file:
            tmp_path = Path(mo_file.name)
            try:
                write_mo(mo_file, catalog)
            except BaseException:
                mo_file.close()
                tmp_path.unlink(missing_ok=True)
                raise
        tmp_path.replace(mo_path)
    return target


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line and scheduled jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in languages:
        return cookie
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    compiled = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    # Numbers and dates in the reader's locale (and, through Flask-Babel, its time zone).
    app.jinja_env.filters.update(format_number=format_decimal, format_date=format_date,
                                 format_datetime=format_datetime, format_percent=format_percent)
