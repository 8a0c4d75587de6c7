"""JSON calls for a brand's messaging accounts: connect one (its admins), list them, remove one; its fee table; a
WhatsApp number's message templates (its admins record them); and the expert's template messages."""

from __future__ import annotations

from flask import url_for

from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.channels import connections, fees, templates
from marketplace.routing.channels.schemas import (
    ChannelCreateSchema,
    ChannelFeeCreateSchema,
    ChannelFeeListSchema,
    ChannelFeeSchema,
    ChannelListSchema,
    ChannelSchema,
    TemplateChangeSchema,
    TemplateCreateSchema,
    TemplateListSchema,
    TemplateMessageSchema,
    TemplateSchema,
)
from marketplace.routing.models import BrandChannel, ChannelTemplate
from marketplace.routing.schemas import MessageSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("channels_api", __name__)
READERS = [Role.OPS, Role.BRAND, Role.FINANCE]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
TAGS = ["channels"]


def _shown(channel: BrandChannel) -> dict:
    return {"id": channel.id, "kind": channel.kind.value, "account_id": channel.account_id,
            "display_phone_number": channel.display_phone_number,
            "webhook_url": url_for(f"channels_webhooks.{channel.kind.value}", _external=True),
            "created_at": channel.created_at, "last_inbound_at": channel.last_inbound_at,
            "last_error": channel.last_error, "last_error_at": channel.last_error_at}


@blueprint.post("/brands/<int:brand_id>/channels")
@endpoint("Connect a WhatsApp number or a Facebook Page to the brand (admins); the token and secrets are sealed "
          "and never shown again; a WhatsApp number's display number is asked of WhatsApp unless given",
          roles=BRAND_PEOPLE, body=ChannelCreateSchema(), response=ChannelSchema(), status=201, tags=TAGS,
          errors=(409,))
def connect(actor, brand_id: int, body):
    channel = connections.connect_channel(actor, brand_id, body)
    connections.learn_display_number(channel.id)
    return _shown(channel)


@blueprint.get("/brands/<int:brand_id>/channels")
@endpoint("The brand's connected messaging accounts with their webhook address and health (never a secret)",
          roles=READERS, response=ChannelListSchema(), tags=TAGS)
def channels(actor, brand_id: int):
    return {"channels": [_shown(channel) for channel in connections.list_channels(actor, brand_id)]}


@blueprint.delete("/brands/<int:brand_id>/channels/<int:channel_id>")
@endpoint("Remove one of the brand's messaging accounts (admins): its webhooks are refused from now on",
          roles=BRAND_PEOPLE, tags=TAGS)
def disconnect(actor, brand_id: int, channel_id: int):
    connections.disconnect_channel(actor, brand_id, channel_id)


@blueprint.get("/brands/<int:brand_id>/channel-fees")
@endpoint("The brand's fee per outbound message by messaging app and category, newest start first, each "
          "scheduled, in effect or past", roles=READERS, response=ChannelFeeListSchema(), tags=TAGS)
def channel_fees(actor, brand_id: int):
    table = fees.fee_table(actor, brand_id)
    return {"currency": brands.get_brand(actor, brand_id).currency, "fees": table}


@blueprint.post("/brands/<int:brand_id>/channel-fees")
@endpoint("Put a fee per outbound message in effect from a day on (admins); it counts toward the monthly budget",
          roles=BRAND_PEOPLE, body=ChannelFeeCreateSchema(), response=ChannelFeeSchema(), status=201, tags=TAGS)
def schedule_channel_fee(actor, brand_id: int, body):
    fee = fees.schedule_fee(actor, brand_id, **body)
    return next(view for view in fees.fee_table(actor, brand_id) if view.fee.id == fee.id)


def _template(template: ChannelTemplate) -> dict:
    return {"id": template.id, "channel_id": template.channel_id, "name": template.name,
            "language": template.language, "category": template.category.value, "body": template.body,
            "parameters": template.parameters, "status": template.status.value,
            "created_at": template.created_at, "updated_at": template.updated_at}


TEMPLATES = "/brands/<int:brand_id>/channels/<int:channel_id>/templates"


@blueprint.get(TEMPLATES)
@endpoint("The WhatsApp number's message templates, as the brand recorded them from WhatsApp Manager",
          roles=READERS, response=TemplateListSchema(), tags=TAGS)
def list_templates(actor, brand_id: int, channel_id: int):
    return {"templates": [_template(t) for t in templates.list_templates(actor, brand_id, channel_id)]}


@blueprint.post(TEMPLATES)
@endpoint("Record one of the number's message templates (admins): its {{1}}... placeholders are its parameters",
          roles=BRAND_PEOPLE, body=TemplateCreateSchema(), response=TemplateSchema(), status=201, tags=TAGS,
          errors=(409,))
def create_template(actor, brand_id: int, channel_id: int, body):
    return _template(templates.create_template(actor, brand_id, channel_id, body))


@blueprint.patch(f"{TEMPLATES}/<int:template_id>")
@endpoint("Change a template (admins): its status once Meta reviewed it, its text...", roles=BRAND_PEOPLE,
          body=TemplateChangeSchema(partial=True), response=TemplateSchema(), tags=TAGS, errors=(409,))
def update_template(actor, brand_id: int, channel_id: int, template_id: int, body):
    return _template(templates.update_template(actor, brand_id, channel_id, template_id, body))


@blueprint.delete(f"{TEMPLATES}/<int:template_id>")
@endpoint("Forget a template (admins); messages sent with it stay as they were", roles=BRAND_PEOPLE, tags=TAGS)
def delete_template(actor, brand_id: int, channel_id: int, template_id: int):
    templates.delete_template(actor, brand_id, channel_id, template_id)


@blueprint.get("/conversations/<int:conversation_id>/templates")
@endpoint("The approved templates the expert holding a WhatsApp conversation may send in it (none elsewhere)",
          roles=[Role.EXPERT], response=TemplateListSchema(), tags=["conversations"])
def conversation_templates(actor, conversation_id: int):
    expert_id = experts.own_profile(actor).id
    return {"templates": [_template(t) for t in templates.approved_templates(expert_id, conversation_id)]}


@blueprint.post("/conversations/<int:conversation_id>/template-messages")
@endpoint("Send an approved template in one of the expert's WhatsApp chats, inside Meta's 24-hour window or after "
          "it: stored with its parameters filled in, sent as the template", roles=[Role.EXPERT],
          body=TemplateMessageSchema(), response=MessageSchema(), status=201, tags=["conversations"], errors=(409,))
def send_template(actor, conversation_id: int, body):
    expert_id = experts.own_profile(actor).id
    posted = templates.send_template(expert_id, actor.id, conversation_id, body["template_id"], body["parameters"],
                                     body.get("client_id"))
    return events.message_payload(posted.message)
