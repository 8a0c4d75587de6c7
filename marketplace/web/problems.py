"""Errors as `application/problem+json` for the API and friendly pages for people."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from marketplace.database import db
from marketplace.errors import DomainError

PROBLEM_TYPE = "application/problem+json"

# What people read on error pages, in their language; the API keeps HTTP's English titles.
PAGE_TITLES = {
    400: _l("Something is wrong with this request"),
    401: _l("Please log in"),
    403: _l("You may not see this page"),
    404: _l("Page not found"),
    405: _l("This action is not possible here"),
    409: _l("This conflicts with what already exists"),
    413: _l("This is too large"),
    422: _l("Some information is not valid"),
}
PAGE_DETAILS = {
    403: _l("Your account does not give access to this page."),
    404: _l("There is nothing at this address. Check the link, or go back to the home page."),
    405: _l("Go back to the previous page and try again."),
}


def wants_problem() -> bool:
    """API paths, and any caller that asks for JSON, get problem+json; people get pages."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_TYPE])
    return best in ("application/json", PROBLEM_TYPE)


def problem(status: int, title: str, detail: str | None = None,
            errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(status: int, title: str, detail: str | None, field: str | None = None) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, detail=detail, field=field), status


def _stringify(errors: Any, field: str = "") -> dict[str, list[str]]:
    """Each failing field's messages as plain strings, nested fields under dotted names ("items.0.name").

    marshmallow nests the errors of lists and nested schemas; the API's `errors` is one flat object.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            for name, messages in _stringify(value, f"{field}.{key}" if field else str(key)).items():
                flat.setdefault(name, []).extend(messages)
    elif isinstance(errors, list | tuple):
        for value in errors:
            for name, messages in _stringify(value, field).items():
                flat.setdefault(name, []).extend(messages)
    else:
        flat[field or "body"] = [str(errors)]
    return flat


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_problem():
            return problem(error.status, error.title, str(error.message), _stringify(error.errors))
        return _page(error.status, PAGE_TITLES.get(error.status, error.title), str(error.message), error.field)

    @app.errorhandler(ValidationError)
    def validation_error(error: ValidationError):
        db.session.rollback()
        return problem(422, "Invalid input", gettext("Some fields are not valid."), _stringify(error.messages))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if wants_problem():
            return problem(400, "CSRF token missing or invalid", error.description,
                           {"X-CSRFToken": [error.description]})
        return _page(400, gettext("This form has expired"),
                     gettext("Please go back, reload the page and try again."))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        if error.response is not None:  # a limit that built its own answer (the sign-up form as typed) keeps it
            return error.response
        retry = {"Retry-After": str(error.retry_after)} if getattr(error, "retry_after", None) else {}
        detail = gettext("Too many attempts. Wait a few minutes and try again.")
        if wants_problem():
            return problem(429, "Too many requests", detail, headers=retry)
        response = app.make_response(_page(429, gettext("Too many attempts"), detail))
        response.headers.update(retry)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_problem():
            fields = {"body": [error.description]} if error.code == 413 else None
            response = problem(error.code or 500, error.name, error.description, fields)
            if error.code == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        code = error.code or 500
        return _page(code, PAGE_TITLES.get(code, error.name), PAGE_DETAILS.get(code, error.description))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        detail = gettext("Something went wrong on our side. Nothing you wrote was lost; please try again.")
        if wants_problem():
            return problem(500, "Internal server error", detail)
        return _page(500, gettext("Something went wrong"), detail)
