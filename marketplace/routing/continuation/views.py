"""The resume link's page: the widget's frame, full page on our origin, which binds this browser and shows the
whole conversation (the frame's script calls `POST .../resume`); a forged or expired link gets a friendly page."""

from __future__ import annotations

from flask import Blueprint, render_template

from marketplace.database import end_read
from marketplace.errors import NotFound
from marketplace.routing.continuation import services
from marketplace.routing.door.views import frame_response

blueprint = Blueprint("continuation", __name__)


@blueprint.get("/widget/<key>/resume/<token>")
def resume(key: str, token: str):
    try:
        brand = services.check_resume_link(key, token)
    except NotFound:
        end_read()
        return render_template("routing/resume_invalid.html"), 404
    return frame_response(key, brand, resume_token=token)
