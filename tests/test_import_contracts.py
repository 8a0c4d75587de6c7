"""The project's own import contract finds the request and the logged-in user however they are imported."""

import ast

import pytest

from tests.import_contracts import AdaptersOnlyContract, _uses

NAMES = {"flask_login", "flask.request"}


@pytest.mark.parametrize(("source", "found"), [
    ("from flask import request", ["flask.request"]),
    ("from flask import (\n    Blueprint,\n    request,\n)", ["flask.request"]),
    ("import flask\nflask.request.args", ["flask.request"]),
    ("from flask_login import current_user", ["flask_login"]),
    ("import flask_login", ["flask_login"]),
    ("from flask import current_app, url_for", []),
    ("from marketplace.web import requests", []),
    ("request = 1", []),
])
def test_it_finds_the_listed_names_however_they_are_imported(source, found):
    assert [name for name, _ in _uses(ast.parse(source), NAMES)] == found


def test_views_api_and_socket_handlers_are_adapters_and_services_are_not():
    contract = AdaptersOnlyContract.__new__(AdaptersOnlyContract)
    contract.adapter_names = {"views", "*_views", "api", "sockets"}
    contract.adapter_modules = {"marketplace.web"}
    assert contract._is_adapter("marketplace.routing.chat.views")
    assert contract._is_adapter("marketplace.brands.member_views")
    assert contract._is_adapter("marketplace.web.params")
    assert not contract._is_adapter("marketplace.routing.chat.services")
    assert not contract._is_adapter("marketplace.webhooks")
