"""The brand's live dashboard: the page and its JSON figures."""

from __future__ import annotations

from flask import Blueprint

from marketplace.web.api import api_blueprint

blueprint = Blueprint("dashboard", __name__)
api = api_blueprint("dashboard_api", __name__)
