"""A brand's knowledge base: its entries, and how its FAQ bot is set.

Every row belongs to one brand (rule 14): nothing here is ever read for another brand.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow

LANGUAGES = ("fr", "en")
# A brand's bot before it set anything: off, answering at a confidence with precision 0.9 and false answers 0.05 to
# spare on the evaluation sets (core/faq/calibration.py), resolved after 10 quiet minutes, no credit.
DEFAULT_THRESHOLD = 0.65
DEFAULT_RESOLVE_AFTER_MINUTES = 10


class EntryStatus(enum.StrEnum):
    ACTIVE = "active"  # the bot and the experts' suggestions use it (unless `active` is off)
    PROPOSED = "proposed"  # an expert proposed it from an answer they wrote: the brand approves or edits it
    REJECTED = "rejected"  # the brand turned the proposal down


class FaqEntry(db.Model):
    """One question the brand answers the same way every time, in one language."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        sa.UniqueConstraint("brand_id", "ref", name="uq_faq_entries_brand_ref"),
        sa.Index("ix_faq_entries_brand_status", "brand_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    ref: so.Mapped[str] = so.mapped_column(sa.String(64))  # the brand's own key for it (its CSV, its API)
    lang: so.Mapped[str] = so.mapped_column(sa.String(2))  # fr | en
    # The question as visitors ask it; more ways of asking it, one per line, make it easier to recognise.
    question: so.Mapped[str] = so.mapped_column(sa.String(2000))
    answer: so.Mapped[str] = so.mapped_column(sa.String(2000))
    tags: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    status: so.Mapped[EntryStatus] = so.mapped_column(enum_column(EntryStatus, "faq_entry_status"),
                                                      default=EntryStatus.ACTIVE)
    # The expert whose answer it came from (a proposal): each resolution by it earns them the brand's credit.
    author_expert_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="SET NULL"), index=True)
    source_conversation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    decided_at: so.Mapped[dt.datetime | None]  # a proposal approved or rejected
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


def default_settings(brand_id: int) -> FaqSettings:
    """The settings of a brand that never set its bot (unsaved)."""
    return FaqSettings(brand_id=brand_id, bot_enabled=False, threshold=DEFAULT_THRESHOLD,
                       resolve_after_minutes=DEFAULT_RESOLVE_AFTER_MINUTES, credit_cents=0, synonyms="", version=0)


class FaqSettings(db.Model):
    """A brand's FAQ bot: on or off, how sure it must be, and what it pays experts whose answers it reuses."""

    __tablename__ = "faq_settings"
    __table_args__ = (
        sa.CheckConstraint("threshold >= 0 AND threshold <= 1", name="threshold"),
        sa.CheckConstraint("resolve_after_minutes BETWEEN 1 AND 1440", name="resolve_after"),
        sa.CheckConstraint("credit_cents >= 0 AND credit_cents <= 10000", name="credit"),
    )

    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    bot_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    # The least confidence at which the bot answers: the share of its answers at that confidence that are right.
    threshold: so.Mapped[float] = so.mapped_column(sa.Float, default=DEFAULT_THRESHOLD)
    # A visitor who asks nothing more this long after the bot's answer is counted resolved (unconfirmed).
    resolve_after_minutes: so.Mapped[int] = so.mapped_column(default=DEFAULT_RESOLVE_AFTER_MINUTES)
    credit_cents: so.Mapped[int] = so.mapped_column(default=0)  # per resolution by an entry an expert wrote
    # The brand's own synonyms, one group per line: "livraison, expédition, envoi".
    synonyms: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Moved by every change of the base or of the synonyms: a process's index of the base is fresh while equal.
    version: so.Mapped[int] = so.mapped_column(default=0)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
