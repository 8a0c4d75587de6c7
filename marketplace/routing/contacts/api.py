"""JSON calls for contacts: the brand's list, contact page and merge; the expert's view of a visitor's history."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.experts import services as experts
from marketplace.routing.contacts import history
from marketplace.routing.contacts import services as contacts
from marketplace.routing.contacts.schemas import (
    ContactDetailSchema,
    ContactPageSchema,
    ContactSchema,
    ContactSearchQuery,
    HistorySchema,
    HistoryTranscriptSchema,
    MergeSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("contacts_api", __name__)
READERS = [Role.OPS, Role.BRAND, Role.FINANCE]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
TAGS = ["contacts"]


@blueprint.get("/brands/<int:brand_id>/contacts")
@endpoint("The brand's contacts (who proved an address or a WhatsApp number to it), latest seen first, 50 a page",
          roles=READERS, query=ContactSearchQuery(), response=ContactPageSchema(), tags=TAGS)
def search(actor, brand_id: int, query):
    return history.search_contacts(actor, brand_id, query.get("q"), query["page"])


@blueprint.get("/brands/<int:brand_id>/contacts/<int:contact_id>")
@endpoint("One of the brand's contacts with its conversations, newest first", roles=READERS,
          response=ContactDetailSchema(), tags=TAGS)
def contact(actor, brand_id: int, contact_id: int):
    detail = history.contact_detail(actor, brand_id, contact_id)
    return {**vars(detail.contact), "proved_at": detail.proved_at, "merged_into_id": detail.merged_into_id,
            "conversations": detail.conversations}


@blueprint.post("/brands/<int:brand_id>/contacts/merge")
@endpoint("Merge two of the brand's contacts (admins): merge_id's conversations move to keep_id, which stays",
          roles=BRAND_PEOPLE, body=MergeSchema(), response=ContactSchema(), tags=TAGS)
def merge(actor, brand_id: int, body):
    kept = contacts.merge_contacts(actor, brand_id, body["keep_id"], body["merge_id"])
    return history.contact_detail(actor, brand_id, kept.id).contact


@blueprint.get("/conversations/<int:conversation_id>/history")
@endpoint("The earlier conversations, with the same brand, of the visitor of a chat the expert holds (when they "
          "proved an address to the brand)", roles=[Role.EXPERT], response=HistorySchema(), tags=TAGS)
def expert_history(actor, conversation_id: int):
    return history.expert_history(experts.own_profile(actor).id, conversation_id)


@blueprint.get("/conversations/<int:conversation_id>/history/<int:earlier_id>")
@endpoint("The messages of one of those earlier conversations, read-only", roles=[Role.EXPERT],
          response=HistoryTranscriptSchema(), tags=TAGS)
def expert_history_transcript(actor, conversation_id: int, earlier_id: int):
    expert_id = experts.own_profile(actor).id
    return {"messages": history.expert_history_transcript(expert_id, conversation_id, earlier_id)}
