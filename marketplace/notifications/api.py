"""JSON API for notifications: the caller's own list, marking them read, and Web Push subscriptions."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.accounts.models import Role
from marketplace.notifications import services
from marketplace.notifications.schemas import (
    MarkedReadSchema,
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
    PushEndpointSchema,
    PushSubscriptionCreateSchema,
    PushSubscriptionSchema,
    VapidPublicKeySchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("notifications_api", __name__)
PEOPLE = list(Role)  # every person has notifications; brand API tokens are refused by the services


@blueprint.get("/notifications")
@endpoint("The caller's newest notifications, and how many are unread", roles=PEOPLE,
          query=NotificationQuerySchema(), response=NotificationPageSchema(), tags=["notifications"])
def list_notifications(actor, query) -> dict[str, Any]:
    return {"notifications": services.list_notifications(actor, limit=query["limit"]),
            "unread": services.unread_count(actor)}


@blueprint.post("/notifications/<int:notification_id>/read")
@endpoint("Mark one of the caller's notifications read", roles=PEOPLE, response=NotificationSchema(),
          tags=["notifications"])
def mark_read(actor, notification_id: int):
    return services.mark_read(actor, notification_id)


@blueprint.post("/notifications/read-all")
@endpoint("Mark all the caller's notifications read", roles=PEOPLE, response=MarkedReadSchema(),
          tags=["notifications"])
def mark_all_read(actor) -> dict[str, int]:
    return {"marked": services.mark_all_read(actor)}


@blueprint.get("/push/public-key")
@endpoint("The VAPID public key to subscribe browsers with", roles=PEOPLE, response=VapidPublicKeySchema(),
          tags=["notifications"])
def public_key(actor) -> dict[str, str]:
    return {"public_key": services.vapid_public_key()}


@blueprint.post("/push-subscriptions")
@endpoint("Save this browser's push subscription for the caller", roles=PEOPLE,
          body=PushSubscriptionCreateSchema(), response=PushSubscriptionSchema(), status=201,
          tags=["notifications"])
def subscribe(actor, body):
    return services.subscribe_push(actor, body["endpoint"], body["keys"]["p256dh"], body["keys"]["auth"],
                                   user_agent=request.headers.get("User-Agent", ""))


@blueprint.delete("/push-subscriptions")
@endpoint("Forget this browser's push subscription", roles=PEOPLE, body=PushEndpointSchema(),
          tags=["notifications"])
def unsubscribe(actor, body) -> None:
    services.unsubscribe_push(actor, body["endpoint"])
