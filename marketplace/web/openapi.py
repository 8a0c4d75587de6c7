"""The OpenAPI 3 document, generated from the API views' own declarations.

It says every answer an endpoint may give: its success, and each problem+json error the plumbing in
`marketplace.web.api` or the endpoint itself produces (the latter declared in `EndpointDoc.errors`).
tests/web/test_api_fuzz.py holds the app to it.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify
from marshmallow import Schema, fields

from marketplace.database import ID_MAX
from marketplace.web.api import EndpointDoc
from marketplace.web.schemas import FIRST_YEAR, LAST_YEAR

blueprint = Blueprint("openapi", __name__)

_PATH_ARG = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")

# What a path parameter may be: an id by default, a few known names more narrowly.
_INTEGER_PATH = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "year": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
    "month": {"type": "integer", "minimum": 1, "maximum": 12},
    "key": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,40}$",
            "description": "The brand's public widget key (pk_...)."},
}
_STRING_PATH = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,200}$"}

# Files the API serves instead of JSON, by the path's extension.
_FILE_TYPES = {".csv": "text/csv", ".pdf": "application/pdf", ".xml": "application/xml"}

_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or the CSRF token is missing for a logged-in session's write",
    401: "Not logged in and no valid API token",
    403: "The caller's role or brand does not allow this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the record's current state",
    413: "The request body is too large",
    415: "The body is not application/json",
    422: "Invalid fields, named in `errors`",
    429: "Too many requests: wait for Retry-After seconds",
}


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages per failing field; a nested field is named with "
                                                  "dots (items.0.name)."})


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _ERROR_DESCRIPTIONS.get(status, "See the problem's `detail`"),
                              "content": {"application/problem+json": {"schema": "Problem"}}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    elif status == 429:
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return answer


def _success(doc: EndpointDoc, path: str) -> tuple[str, dict[str, Any]]:
    if doc.response is not None:
        return str(doc.status), {"description": "Success", "content": {"application/json": {"schema": doc.response}}}
    file_type = doc.produces or next((media for ext, media in _FILE_TYPES.items() if path.endswith(ext)), None)
    if file_type is not None:
        return "200", {"description": "The file, as an attachment",
                       "content": {file_type: {"schema": {"type": "string", "format": "binary"}}}}
    return "204", {"description": "Done"}


def _error_statuses(doc: EndpointDoc, has_path_args: bool) -> list[int]:
    statuses = {400, *doc.errors}
    if not doc.public:
        statuses |= {401, 403}
    if has_path_args:
        statuses.add(404)
    if doc.body is not None or doc.form is not None:
        statuses |= {413, 415, 422}
    if doc.query is not None:
        statuses.add(422)
    return sorted(statuses)


def _path_parameter(converter: str, name: str) -> dict[str, Any]:
    schema = _PATH_SCHEMAS.get(name) or (_INTEGER_PATH if converter == "int" else _STRING_PATH)
    return {"in": "path", "name": name, "required": True, "schema": dict(schema)}


def _operation(doc: EndpointDoc, path: str, rule_args: list[tuple[str, str]]) -> dict[str, Any]:
    status, success = _success(doc, path)
    responses: dict[str, Any] = {status: success}
    for error in _error_statuses(doc, bool(rule_args)):
        responses[str(error)] = _problem(error)
    parameters: list[dict[str, Any]] = [_path_parameter(converter, name) for converter, name in rule_args]
    parameters += [{"in": "header", "name": header, "required": False, "schema": {"type": "string"}}
                   for header in doc.headers]
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "tags": list(doc.tags),
        "x-roles": sorted(doc.roles),
        "responses": responses,
        "parameters": parameters,
    }
    if doc.public:
        operation["security"] = []  # anyone may call it
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
    elif doc.form is not None:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": doc.form}}}
    return operation


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="Marketplace API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Errors are application/problem+json with the failing fields under `errors`."},
    )
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.components.security_scheme("brandToken", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        doc: EndpointDoc | None = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None:
            continue
        rule_args = [(m["converter"] or "string", m["name"]) for m in _PATH_ARG.finditer(rule.rule)]
        path = _PATH_ARG.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(doc, path, rule_args)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["security"] = [{"session": []}, {"brandToken": []}]
    return document


@blueprint.get("/api/openapi.json")
def openapi_document():
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = build_spec(current_app)
    return jsonify(current_app.extensions["openapi_document"])
