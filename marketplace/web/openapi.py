"""The OpenAPI 3 document, generated from the API views' own declarations."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify
from marshmallow import Schema, fields

from marketplace.web.api import EndpointDoc

blueprint = Blueprint("openapi", __name__)

_PATH_ARG = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages per failing field."})


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": "Problem"}}}


def _operation(doc: EndpointDoc, rule_args: list[tuple[str, str]]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if doc.response is not None:
        responses[str(doc.status)] = {"description": "Success",
                                      "content": {"application/json": {"schema": doc.response}}}
    else:
        responses["204"] = {"description": "Done"}
    responses["401"] = _problem("Not logged in and no valid API token")
    responses["403"] = _problem("The caller's role or brand does not allow this")
    if rule_args:
        responses["404"] = _problem("Not found, or not visible to the caller")
    if doc.body is not None or doc.query is not None:
        responses["400"] = _problem("Malformed JSON or missing CSRF token")
        responses["422"] = _problem("Invalid fields, named in `errors`")
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "tags": list(doc.tags),
        "x-roles": sorted(doc.roles),
        "responses": responses,
        "parameters": [
            {"in": "path", "name": name, "required": True,
             "schema": {"type": "integer" if converter == "int" else "string"}}
            for converter, name in rule_args
        ],
    }
    if doc.query is not None:
        operation["parameters"].append({"in": "query", "schema": doc.query})
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
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
            paths.setdefault(path, {})[method.lower()] = _operation(doc, rule_args)
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
