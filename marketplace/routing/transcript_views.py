"""The brand's conversations: search, transcripts, CSV export, and replies to left messages."""

from __future__ import annotations

from flask import Blueprint

from marketplace.web.api import api_blueprint

blueprint = Blueprint("transcripts", __name__)
api = api_blueprint("transcripts_api", __name__)
