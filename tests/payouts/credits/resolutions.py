"""Conversations the FAQ bot resolved, as the bot flow leaves them: an entry of the brand's base (an expert's
answer or the brand's own), the bot's turns, the conversation resolved with no expert."""

from __future__ import annotations

import datetime as dt
import itertools

from marketplace.brands.models import Brand
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.models import Conversation, ConversationStatus, EndReason
from tests.factories import ConversationFactory

_refs = itertools.count(1)


def pays_credit(brand: Brand, cents: int) -> FaqSettings:
    """The brand's bot on, paying `cents` per resolution by an entry an expert wrote."""
    settings = db.session.get(FaqSettings, brand.id) or FaqSettings(brand_id=brand.id)
    settings.bot_enabled, settings.credit_cents = True, cents
    db.session.add(settings)
    db.session.commit()
    return settings


def entry(brand: Brand, author: ExpertProfile | None) -> FaqEntry:
    """An active entry of the brand's base, written by `author` (None: by the brand itself)."""
    row = FaqEntry(brand_id=brand.id, ref=f"ref-{next(_refs)}", lang="fr", question="Quels sont vos délais ?",
                   answer="Trois jours ouvrés.", tags=[], status=EntryStatus.ACTIVE,
                   author_expert_id=author.id if author else None)
    db.session.add(row)
    db.session.commit()
    return row


def turn(conversation: Conversation, seq: int, answered_with: FaqEntry | None, helpful: bool | None = None) -> BotTurn:
    """The bot's turn on the visitor's message `seq`: answered with an entry, or handed over (None)."""
    row = BotTurn(conversation_id=conversation.id, brand_id=conversation.brand_id, visitor_seq=seq,
                  outcome=TurnOutcome.ANSWERED if answered_with else TurnOutcome.HANDED_OVER,
                  reason="answered" if answered_with else "low_confidence",
                  entry_id=answered_with.id if answered_with else None, confidence=0.9 if answered_with else 0.2,
                  helpful=helpful)
    db.session.add(row)
    db.session.commit()
    return row


def resolved(brand: Brand, by: FaqEntry, *, confirmed: bool = True, at: dt.datetime | None = None,
             earlier: FaqEntry | None = None) -> Conversation:
    """A conversation the bot resolved with `by` (its last answer), after answering with `earlier` first when
    given; the visitor said it helped (`confirmed`) or asked nothing more. `at`: when (a minute ago)."""
    closed = at or utcnow() - dt.timedelta(minutes=1)
    conversation = ConversationFactory(
        brand=brand, status=ConversationStatus.RESOLVED, created_at=closed - dt.timedelta(minutes=5), closed_at=closed,
        end_reason=EndReason.BOT_CONFIRMED if confirmed else EndReason.BOT_UNCONFIRMED)
    if earlier is not None:
        turn(conversation, 1, earlier, helpful=False)
    turn(conversation, 2, by, helpful=True if confirmed else None)
    return conversation


def handed_over(brand: Brand, after: FaqEntry, expert: ExpertProfile) -> Conversation:
    """A conversation the bot answered with `after`, then handed over: an expert took it and closed it."""
    conversation = ConversationFactory(brand=brand, status=ConversationStatus.CLOSED, expert=expert)
    turn(conversation, 1, after, helpful=False)
    turn(conversation, 2, None)
    return conversation
