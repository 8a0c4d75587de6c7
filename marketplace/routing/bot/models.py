"""The bot's turns in a conversation: what it answered, or why it handed over (the dashboard's figures)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class TurnOutcome(enum.StrEnum):
    ANSWERED = "answered"  # the bot wrote an entry's answer
    HANDED_OVER = "handed_over"  # the bot stepped aside: the conversation went to the queue


class BotTurn(db.Model):
    """One visitor message the bot read, or one request for a person, and what the bot did about it."""

    __tablename__ = "bot_turns"
    __table_args__ = (
        # The bot reads each visitor message once: a redelivered message, or two processes, answer once.
        sa.UniqueConstraint("conversation_id", "visitor_seq", name="uq_bot_turns_conversation_visitor_seq"),
        sa.Index("ix_bot_turns_brand_created", "brand_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    visitor_seq: so.Mapped[int]  # the visitor's message it read (the last one, for a request for a person)
    outcome: so.Mapped[TurnOutcome] = so.mapped_column(enum_column(TurnOutcome, "bot_turn_outcome"))
    # Why it handed over (faq answering's reasons, or the visitor's: not_helpful, asked_for_person, ...).
    reason: so.Mapped[str] = so.mapped_column(sa.String(30))
    entry_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("faq_entries.id", ondelete="SET NULL"),
                                                       index=True)
    confidence: so.Mapped[float | None] = so.mapped_column(sa.Float)
    bot_seq: so.Mapped[int | None]  # the bot's message, when it wrote one
    helpful: so.Mapped[bool | None]  # the visitor's answer to "Did this answer your question?"
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
