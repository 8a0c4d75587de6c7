"""JSON API of the brand console: the live view, the chat program and caps, the dashboard, past conversations."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.brands import program
from marketplace.brands import services as brands
from marketplace.routing.console import caps as demand
from marketplace.routing.console import transcripts
from marketplace.routing.console.dashboard import brand_dashboard
from marketplace.routing.console.live import live_view
from marketplace.routing.console.schemas import (
    CannedAnswersSchema,
    CapUsageSchema,
    DashboardSchema,
    LiveSchema,
    ProgramChangeSchema,
    ProgramSchema,
    TranscriptPageSchema,
    TranscriptSchema,
    TranscriptSearchQuery,
)
from marketplace.routing.schemas import CannedAnswerSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("console_api", __name__)
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
READERS = [Role.OPS, Role.BRAND, Role.FINANCE]


@blueprint.get("/brands/<int:brand_id>/conversations/live")
@endpoint("The brand's waiting and active conversations now, and its experts online", roles=BRAND_PEOPLE,
          response=LiveSchema(), tags=["conversations"])
def live(actor, brand_id: int):
    return live_view(actor, brand_id)


@blueprint.get("/brands/<int:brand_id>/dashboard")
@endpoint("The brand's dashboard: conversations now, today's service level, refusals and use of each cap, "
          "and today by quarter of an hour", roles=READERS,
          response=DashboardSchema(), tags=["dashboard"])
def dashboard(actor, brand_id: int):
    return brand_dashboard(actor, brand_id)


@blueprint.get("/brands/<int:brand_id>/conversations")
@endpoint("The brand's conversations of every status, filtered, newest first, 50 a page", roles=READERS,
          query=TranscriptSearchQuery(), response=TranscriptPageSchema(), tags=["conversations"])
def search_conversations(actor, brand_id: int, query):
    page = query.pop("page")
    return transcripts.search_conversations(actor, brand_id, query, page)


@blueprint.get("/brands/<int:brand_id>/conversations/<int:conversation_id>")
@endpoint("One of the brand's conversations with its messages in order", roles=READERS,
          response=TranscriptSchema(), tags=["conversations"])
def transcript(actor, brand_id: int, conversation_id: int):
    return transcripts.transcript(actor, brand_id, conversation_id)


@blueprint.get("/brands/<int:brand_id>/program")
@endpoint("The brand's chat program: widget origins, topics, hours, timings and caps", roles=BRAND_PEOPLE,
          response=ProgramSchema(), tags=["conversations"])
def get_program(actor, brand_id: int):
    return brands.get_brand(actor, brand_id)


@blueprint.patch("/brands/<int:brand_id>/program")
@endpoint("Change the brand's chat program (admins); caps apply to the next arrival", roles=BRAND_PEOPLE,
          body=ProgramChangeSchema(partial=True), response=ProgramSchema(), tags=["conversations"])
def patch_program(actor, brand_id: int, body):
    return program.update_program(actor, brand_id, body)


@blueprint.put("/brands/<int:brand_id>/canned-answers")
@endpoint("Replace the brand's canned answers (admins)", roles=BRAND_PEOPLE, body=CannedAnswersSchema(),
          response=CannedAnswerSchema(many=True), tags=["conversations"])
def put_canned_answers(actor, brand_id: int, body):
    return program.set_canned_answers(actor, brand_id, body["answers"])


@blueprint.get("/brands/<int:brand_id>/caps")
@endpoint("The brand's demand caps with their use now and the door's refusals today, by reason",
          roles=READERS, response=CapUsageSchema(), tags=["conversations"])
def cap_usage(actor, brand_id: int):
    return demand.cap_usage(actor, brand_id)
