"""A brand's people: members, invitations by e-mail, and accepting an invitation."""

from __future__ import annotations

from flask import Blueprint

from marketplace.web.api import api_blueprint

blueprint = Blueprint("members", __name__)
api = api_blueprint("members_api", __name__)
