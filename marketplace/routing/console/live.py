"""The brand's live view: its conversations waiting and under way right now, and its experts online."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.brands import services as brands
from marketplace.database import db, end_read, utcnow
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.models import LIVE_STATUSES, Conversation, ConversationStatus


def live_view(actor: brands.Actor, brand_id: int) -> dict:
    """The brand's waiting and active conversations right now, and how many of its experts are online (those whose
    visitor is away, asynchronous, are not live: the dashboard counts them)."""
    brands.get_brand(actor, brand_id)
    now = utcnow()
    rows = list(db.session.scalars(
        sa.select(Conversation).where(Conversation.brand_id == brand_id, Conversation.status.in_(LIVE_STATUSES))
        .order_by(Conversation.priority.desc(), Conversation.queued_at, Conversation.id)
    ))
    names = {p.id: p.display_name for p in experts.profiles_by_id({c.expert_id for c in rows if c.expert_id}).values()}
    online = db.session.scalar(
        sa.select(sa.func.count()).select_from(presence.routable_expert_ids(brand_id).subquery())
    )
    view = {
        "waiting": [events.live_row(c, None, now) for c in rows if c.status != ConversationStatus.ACTIVE],
        "active": [events.live_row(c, names.get(c.expert_id), now) for c in rows
                   if c.status == ConversationStatus.ACTIVE],
        "experts_online": int(online or 0),
    }
    end_read()
    return view
