"""JSON calls for a brand's messaging accounts: connect one (its admins), list them, remove one; its fee table."""

from __future__ import annotations

from flask import url_for

from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.routing.channels import connections, fees
from marketplace.routing.channels.schemas import (
    ChannelCreateSchema,
    ChannelFeeCreateSchema,
    ChannelFeeListSchema,
    ChannelFeeSchema,
    ChannelListSchema,
    ChannelSchema,
)
from marketplace.routing.models import BrandChannel
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("channels_api", __name__)
READERS = [Role.OPS, Role.BRAND, Role.FINANCE]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
TAGS = ["channels"]


def _shown(channel: BrandChannel) -> dict:
    return {"id": channel.id, "kind": channel.kind.value, "account_id": channel.account_id,
            "webhook_url": url_for(f"channels_webhooks.{channel.kind.value}", _external=True),
            "created_at": channel.created_at, "last_inbound_at": channel.last_inbound_at,
            "last_error": channel.last_error, "last_error_at": channel.last_error_at}


@blueprint.post("/brands/<int:brand_id>/channels")
@endpoint("Connect a WhatsApp number or a Facebook Page to the brand (admins); the token and secrets are sealed "
          "and never shown again", roles=BRAND_PEOPLE, body=ChannelCreateSchema(), response=ChannelSchema(),
          status=201, tags=TAGS, errors=(409,))
def connect(actor, brand_id: int, body):
    return _shown(connections.connect_channel(actor, brand_id, body))


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
