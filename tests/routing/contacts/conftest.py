"""Fixtures for contacts: visitors who gave an address with consent, in conversations of a brand."""

from __future__ import annotations

import datetime as dt

from marketplace.brands.models import Brand
from marketplace.database import utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.routing.door.services import hash_token
from marketplace.routing.models import Conversation, ConversationStatus
from tests.factories import ConversationFactory


def chat_with_address(brand: Brand, token: str, email: str | None, *,
                      status: ConversationStatus = ConversationStatus.CLOSED, expert: ExpertProfile | None = None,
                      ago: dt.timedelta = dt.timedelta(days=2), **fields) -> Conversation:
    """A conversation of `brand` whose visitor (browser `token`) gave `email` with consent; flushed."""
    fields = {"visitor_email_consent_at": utcnow() - ago if email else None, **fields}
    if expert is not None:
        fields["expert"] = expert
    return ConversationFactory(brand=brand, status=status, visitor_token_hash=hash_token(token), visitor_email=email,
                               created_at=utcnow() - ago, **fields)
