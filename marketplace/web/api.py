"""The JSON API's plumbing: one decorator that authenticates, authorises by role, parses and documents."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_login import current_user
from marshmallow import Schema
from werkzeug.exceptions import BadRequest

from marketplace.extensions import csrf
from marketplace.web.problems import problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class EndpointDoc:
    """What the OpenAPI document says of one endpoint, and what tests check against."""

    summary: str
    roles: frozenset[str]
    body: Schema | None = None
    response: Schema | None = None
    status: int = 200
    query: Schema | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    public: bool = False  # no login: anyone may call it (the widget's visitor)
    errors: tuple[int, ...] = ()  # further answers it may give besides the common ones (409, 429...)
    headers: tuple[str, ...] = ()  # request headers it reads (X-Visitor-Token)
    # A multipart/form-data body (a file sent), documented here; the view reads it itself, since how large it may
    # be depends on what the path names (the brand's attachment limit).
    form: Schema | None = None
    max_bytes: int | None = None  # the largest request it takes, when more than MAX_CONTENT_LENGTH (files)
    produces: str | None = None  # the media type of the file it answers with, when its path has no extension


PathGuard = Callable[[Any, Any], None]


def register_path_guard(app: Flask, parameter: str, guard: PathGuard) -> None:
    """Check a path parameter (e.g. brand_id) for every endpoint that has it, before its body is read.

    The guard raises a DomainError (404 for what the caller may not see), so a brand's endpoints
    answer 404 to outsiders whatever they send.
    """
    app.extensions.setdefault("api_path_guards", {})[parameter] = guard


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1 whose CSRF check is done per request in `endpoint`."""
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1")
    csrf.exempt(blueprint)
    return blueprint


def _read_json(*, many: bool = False) -> dict[str, Any] | list[Any] | Response:
    """The JSON body: an object, or also a list for a body declared as a list (a schema with many=True; an object
    sent there is the schema's to refuse, naming the body)."""
    if not request.is_json:
        return problem(415, "Unsupported media type", "Send a JSON object with Content-Type: application/json.",
                       {"body": ["Expected application/json."]})
    try:
        payload = request.get_json()  # what cannot be stored is refused, naming its field (web/requests.py)
    except BadRequest:
        return problem(400, "Malformed JSON", "The request body is not valid JSON.",
                       {"body": ["Not valid JSON."]})
    if not isinstance(payload, dict) and not (many and isinstance(payload, list)):
        return problem(400, "Malformed JSON", "The request body must be a JSON object.",
                       {"body": ["Expected a JSON object."]})
    return payload


def _call(view: Callable, doc: EndpointDoc, kwargs: dict[str, Any]) -> Any:
    """Read and validate the declared body and query, call the view, render what it returns."""
    if doc.body is not None:
        payload = _read_json(many=doc.body.many)
        if isinstance(payload, Response):
            return payload
        kwargs["body"] = doc.body.load(payload)
    if doc.query is not None:
        kwargs["query"] = doc.query.load(request.args.to_dict())
    result = view(**kwargs)
    if isinstance(result, Response):
        return result
    if doc.response is None or result is None:
        return Response(status=204)
    return jsonify(doc.response.dump(result)), doc.status


def endpoint(summary: str, *, roles: Iterable[str], body: Schema | None = None,
             response: Schema | None = None, status: int = 200, query: Schema | None = None,
             tags: Iterable[str] = (), errors: Iterable[int] = (), form: Schema | None = None,
             max_bytes: int | None = None, produces: str | None = None) -> Callable:
    """Wrap an API view: 401 when anonymous, 403 when the role may not, 4xx for bad input.

    The view receives `actor`, then `body` and `query` (already validated) when declared.
    """
    doc = EndpointDoc(summary, frozenset(str(role) for role in roles), body, response, status,
                      query, tuple(tags), errors=tuple(errors), form=form, max_bytes=max_bytes, produces=produces)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**path_args: Any):
            actor = current_user
            if not actor.is_authenticated:
                return problem(401, "Unauthorized", "Log in, or send a brand API token as a Bearer token.",
                               headers={"WWW-Authenticate": 'Bearer realm="api"'})
            if str(actor.role) not in doc.roles:
                return problem(403, "Forbidden", "Your role may not use this endpoint.")
            if doc.max_bytes is not None:
                request.max_content_length = doc.max_bytes  # before the CSRF check reads the form
            if request.method in UNSAFE_METHODS and not actor.is_token:
                csrf.protect()  # session cookies need the token; bearer tokens cannot be forged by a page
            guards = current_app.extensions.get("api_path_guards", {})
            for parameter, value in path_args.items():
                if parameter in guards:
                    guards[parameter](actor, value)
            return _call(view, doc, {"actor": actor, **path_args})

        wrapper.api_doc = doc  # type: ignore[attr-defined]
        return wrapper

    return decorate


def public_endpoint(summary: str, *, body: Schema | None = None, response: Schema | None = None,
                    status: int = 200, query: Schema | None = None, tags: Iterable[str] = (),
                    errors: Iterable[int] = (), headers: Iterable[str] = (), form: Schema | None = None) -> Callable:
    """Wrap an API view anyone may call (no login, no CSRF: nothing a cookie grants is at stake).

    The view receives its path arguments, then `body` and `query` (already validated) when declared.
    """
    doc = EndpointDoc(summary, frozenset(), body, response, status, query, tuple(tags), public=True,
                      errors=tuple(errors), headers=tuple(headers), form=form)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**path_args: Any):
            return _call(view, doc, dict(path_args))

        wrapper.api_doc = doc  # type: ignore[attr-defined]
        return wrapper

    return decorate
