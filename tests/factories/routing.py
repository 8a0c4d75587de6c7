"""Factories of routing's rows: conversations at any step of their lifecycle, offers and messages."""

from __future__ import annotations

import datetime as dt
import secrets

import factory

from marketplace.brands import rates
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.routing.models import (
    OPEN_STATUSES,
    UNANSWERED_STATUSES,
    Conversation,
    ConversationStatus,
    EndReason,
    Message,
    Offer,
    OfferStatus,
    Sender,
    status_after,
)
from tests.factories.base import Base
from tests.factories.brands import BrandFactory
from tests.factories.experts import EnrolmentFactory

# An expert took it: accepted, and closed since or not (the lifecycle's transitions say which statuses those are).
_ACCEPTED = (status_after(ConversationStatus.OFFERED, "accept"), status_after(ConversationStatus.ACTIVE, "close"))
_END_REASONS = {ConversationStatus.CLOSED: EndReason.EXPERT, ConversationStatus.ABANDONED: EndReason.LEFT,
                ConversationStatus.MISSED: EndReason.MAX_WAIT, ConversationStatus.CAPPED: EndReason.DAILY_CAP}


def approved_expert(row) -> ExpertProfile:
    """A new expert the row's brand approved: the only experts the router offers its chats to."""
    return EnrolmentFactory(brand_id=row.brand.id).expert


def _until_last_step(chat) -> dt.timedelta:
    """How long after its arrival the conversation took its last step (so that, by default, that step is now)."""
    if chat.status == ConversationStatus.CLOSED:
        return chat.wait + chat.length
    if chat.status == ConversationStatus.ACTIVE:
        return chat.wait + dt.timedelta(seconds=chat.reply_after or 0)
    return chat.wait if chat.status in UNANSWERED_STATUSES else dt.timedelta(0)


def _closed_at(chat) -> dt.datetime | None:
    if chat.status in OPEN_STATUSES:
        return None
    if chat.status == ConversationStatus.CLOSED:
        return chat.accepted_at + chat.length
    return chat.created_at + chat.wait if chat.status in UNANSWERED_STATUSES else chat.created_at  # refused: at once


class ConversationFactory(Base):
    """A brand's conversation as the routing leaves it in `status` (closed unless told), its last step taken now
    unless `created_at` says when it arrived.

    It waited `wait` in the queue (none by default). An accepted one (active, closed) has an expert the brand
    approved (a new one unless `expert=`) and the price of the brand's card in effect then, and was first answered
    `reply_after` seconds after acceptance (None: never); a closed one closed `length` after acceptance; one left
    unanswered ended after its wait, a refused one on arrival. `messages=` are the visitor's, one a second. An
    offered one has no offer (OfferFactory makes one), and live ones leave the load counters as they are.
    """

    class Meta:
        model = Conversation

    class Params:
        brand = factory.SubFactory(BrandFactory)
        expert = factory.LazyAttribute(lambda chat: approved_expert(chat) if chat.status in _ACCEPTED else None)
        wait = dt.timedelta(0)
        reply_after = 30  # seconds, or None
        length = dt.timedelta(minutes=10)
        card = factory.LazyAttribute(
            lambda chat: chat.accepted_at and rates.card_in_effect(chat.brand, chat.accepted_at))

    brand_id = factory.SelfAttribute("brand.id")
    status = ConversationStatus.CLOSED
    end_reason = factory.LazyAttribute(lambda chat: _END_REASONS.get(chat.status))
    visitor_token_hash = factory.LazyFunction(lambda: secrets.token_hex(32))
    created_at = factory.LazyAttribute(lambda chat: utcnow() - _until_last_step(chat))
    queued_at = factory.SelfAttribute("created_at")
    expert_id = factory.LazyAttribute(lambda chat: chat.expert and chat.expert.id)
    accepted_at = factory.LazyAttribute(lambda chat: chat.created_at + chat.wait if chat.status in _ACCEPTED else None)
    first_reply_at = factory.LazyAttribute(
        lambda chat: None if chat.accepted_at is None or chat.reply_after is None
        else chat.accepted_at + dt.timedelta(seconds=chat.reply_after))
    closed_at = factory.LazyAttribute(_closed_at)
    visitor_seen_at = factory.LazyAttribute(lambda chat: chat.closed_at or chat.created_at)
    last_activity_at = factory.SelfAttribute("visitor_seen_at")
    rate_card_id = factory.LazyAttribute(lambda chat: chat.card and chat.card.id)
    rate_cents = factory.LazyAttribute(lambda chat: chat.card and chat.card.price_cents)
    rating = None
    rated_at = factory.LazyAttribute(lambda chat: chat.closed_at if chat.rating is not None else None)

    @factory.post_generation
    def messages(conversation, create, bodies, **kwargs):  # noqa: N805 - factory_boy passes the object
        for body in bodies or ():
            MessageFactory(conversation=conversation, body=body)


class ClosedChatFactory(ConversationFactory):
    """A closed chat told by when it closed (`closed_at`, half an hour ago unless told): accepted after a `wait` of
    20 s, answered `reply_after` 15 s later (None: never), closed `length` (6 minutes) after acceptance."""

    class Params:
        wait = dt.timedelta(seconds=20)
        reply_after = 15
        length = dt.timedelta(minutes=6)

    status = ConversationStatus.CLOSED
    closed_at = factory.LazyFunction(lambda: utcnow() - dt.timedelta(minutes=30))
    accepted_at = factory.LazyAttribute(lambda chat: chat.closed_at - chat.length)
    created_at = factory.LazyAttribute(lambda chat: chat.accepted_at - chat.wait)


class MessageFactory(Base):
    """The next message of a conversation (a new one unless given), the visitor's unless `sender=` says otherwise,
    written `seq` seconds after the conversation arrived; the conversation's `last_seq` follows."""

    class Meta:
        model = Message

    class Params:
        conversation = factory.SubFactory(ConversationFactory)

    conversation_id = factory.SelfAttribute("conversation.id")
    seq = factory.LazyAttribute(lambda message: message.conversation.last_seq + 1)
    sender = Sender.VISITOR
    author_id = factory.LazyAttribute(
        lambda message: db.session.get(ExpertProfile, message.conversation.expert_id).user_id
        if message.sender == Sender.EXPERT else None)
    client_id = factory.LazyAttribute(lambda message: f"c{message.seq}")
    body = factory.Faker("sentence")
    created_at = factory.LazyAttribute(lambda message: message.conversation.created_at
                                       + dt.timedelta(seconds=message.seq))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        message = super()._create(model_class, *args, **kwargs)
        conversation = db.session.get(Conversation, message.conversation_id)
        conversation.last_seq = max(conversation.last_seq, message.seq)
        db.session.flush()
        return message


def _conversation_status(offer) -> ConversationStatus:
    """Where an offer leaves its conversation: offered while pending, active once accepted, and missed when
    turned down, expired or taken back (nobody took it in the end)."""
    return {OfferStatus.PENDING: ConversationStatus.OFFERED,
            OfferStatus.ACCEPTED: ConversationStatus.ACTIVE}.get(offer.status, ConversationStatus.MISSED)


class OfferFactory(Base):
    """An offer of a new conversation of `brand` to an expert the brand approved (a new one unless `expert=`),
    made at `created_at` for the brand's offer timeout; a settled one (not pending) was decided when it ran out,
    by default now. Its conversation follows (see `_conversation_status`)."""

    class Meta:
        model = Offer

    class Params:
        brand = factory.SubFactory(BrandFactory)
        expert = factory.LazyAttribute(approved_expert)
        conversation = factory.SubFactory(
            ConversationFactory, brand=factory.SelfAttribute("..brand"),
            created_at=factory.SelfAttribute("..created_at"),
            status=factory.LazyAttribute(lambda chat: _conversation_status(chat.factory_parent)),
            expert=factory.LazyAttribute(
                lambda chat: chat.factory_parent.expert if chat.status == ConversationStatus.ACTIVE else None),
            wait=factory.LazyAttribute(
                lambda chat: (chat.factory_parent.decided_at or chat.created_at) - chat.created_at))

    conversation_id = factory.SelfAttribute("conversation.id")
    brand_id = factory.SelfAttribute("brand.id")
    expert_id = factory.SelfAttribute("expert.id")
    status = OfferStatus.PENDING
    created_at = factory.LazyAttribute(
        lambda offer: utcnow() - (dt.timedelta(0) if offer.status == OfferStatus.PENDING
                                  else dt.timedelta(seconds=offer.brand.offer_timeout_seconds)))
    expires_at = factory.LazyAttribute(
        lambda offer: offer.created_at + dt.timedelta(seconds=offer.brand.offer_timeout_seconds))
    decided_at = factory.LazyAttribute(lambda offer: None if offer.status == OfferStatus.PENDING else offer.expires_at)
