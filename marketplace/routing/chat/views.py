"""The expert's chats page: their offers and chats, answered live over the socket."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.core import lifecycles
from marketplace.experts import services as experts
from marketplace.routing.chat import services as chats
from marketplace.routing.labels import STATUS_LABELS
from marketplace.web.roles import role_required

blueprint = Blueprint("chat", __name__)


@blueprint.get("/expert/chats")
@role_required("expert")
def inbox():
    profile = experts.own_profile(current_user)
    return render_template("routing/inbox.html", inbox=chats.expert_inbox(profile.id),
                           api_base="/api/v1", assigned_statuses=lifecycles.CONVERSATION_ASSIGNED,
                           away_statuses=lifecycles.CONVERSATION_ASYNCHRONOUS,
                           status_labels=STATUS_LABELS)
