"""Downloads: a file served through its signed link, to whom the link was given, and 404 to anyone else."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_login import current_user

from marketplace.routing.attachments import services as attachments

blueprint = Blueprint("attachments", __name__)


@blueprint.get("/attachments/<int:attachment_id>/<any(file, thumbnail):variant>")
def download(attachment_id: int, variant: str):
    actor = current_user if current_user.is_authenticated else None
    found = attachments.open_download(attachment_id, variant, request.args.get("t"), actor)
    response = Response(found.data, mimetype=found.content_type)
    response.headers.set("Content-Disposition", "inline" if found.inline else "attachment", filename=found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Nothing in a file runs: a PDF opened in the browser gets no script and no form.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
