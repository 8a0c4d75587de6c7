"""Conversations, the offers that reserve an expert for one, their messages, and the load counters.

The counters (`ExpertLoad`, `BrandLoad`) are what the router decides on; every transition that changes
live rows changes them in the same transaction, and tests check that they always equal the live rows.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.hybrid import hybrid_property

from marketplace.core import lifecycles
from marketplace.database import db, enum_column, utcnow


class Channel(enum.StrEnum):
    """How the visitor reaches the conversation: the web widget, or a messaging app (routing/channels/)."""

    WEB = "web"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"


MESSAGING_CHANNELS = (Channel.WHATSAPP, Channel.MESSENGER)  # a brand connects these (BrandChannel.kind)


class ConversationStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACTIVE = "active"
    ASYNCHRONOUS = "asynchronous"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    MISSED = "missed"
    CAPPED = "capped"
    BOT = "bot"  # with the brand's FAQ bot, before any person (routing/bot/)
    RESOLVED = "resolved"  # ended by the bot: not an answered chat


def _statuses(names: tuple[str, ...]) -> tuple[ConversationStatus, ...]:
    return tuple(ConversationStatus(name) for name in names)


# The groups of statuses of core/lifecycles.py, as the enum: a conversation's statuses are stated there only.
OPEN_STATUSES = _statuses(lifecycles.CONVERSATION_OPEN)  # not ended: one per visitor and brand, the visitor writes
LIVE_STATUSES = _statuses(lifecycles.CONVERSATION_LIVE)  # the visitor is there: a place in `max_concurrent`
ASSIGNED_STATUSES = _statuses(lifecycles.CONVERSATION_ASSIGNED)  # held by its expert, who writes in it
QUEUED_STATUSES = _statuses(lifecycles.CONVERSATION_QUEUED)  # in the queue: a place and a wait are shown
ENDED_STATUSES = _statuses(lifecycles.CONVERSATION_ENDED)  # let in, then ended
UNANSWERED_STATUSES = _statuses(lifecycles.CONVERSATION_UNANSWERED)  # let in, left before an answer
MAY_LEAVE_MESSAGE = _statuses(lifecycles.CONVERSATION_MAY_LEAVE_MESSAGE)
WITH_BOT_STATUSES = _statuses(lifecycles.CONVERSATION_WITH_BOT)  # the bot answers; no person, no place counted


def status_after(status: ConversationStatus | str, action: str) -> ConversationStatus:
    """The status `action` moves a conversation to from `status` (core/lifecycles.py); ValueError if it may not."""
    target = lifecycles.next_status(lifecycles.CONVERSATION_TRANSITIONS, action, str(status))
    if target is None:
        raise ValueError(f"a conversation may not {action} from {status}")
    return ConversationStatus(target)


def may_reopen(conversation: Conversation, reopen_window_hours: int, now: dt.datetime) -> bool:
    """Whether a visitor's message continues this closed conversation: answered, closed within the window.

    Here rather than in the router, which acts on it: what the widget is told (events.py) reads it too.
    """
    return (conversation.status == ConversationStatus.CLOSED and conversation.first_reply_at is not None
            and conversation.expert_id is not None and conversation.closed_at is not None
            and now - conversation.closed_at <= dt.timedelta(hours=reopen_window_hours))


def set_status(conversation: Conversation, status: ConversationStatus, now: dt.datetime) -> None:
    """Give the conversation its new status and keep count of its live time.

    Live time is what the capacity planner's Erlang model calls handle time: the seconds the conversation was
    active, holding one of its expert's live slots, summed over each stretch (accepted, resumed or reopened, until
    it went asynchronous or closed); the days an asynchronous visitor is away hold no slot and do not count.
    """
    was = conversation.status
    if was == ConversationStatus.ACTIVE and status != ConversationStatus.ACTIVE:
        if conversation.live_seconds is not None and conversation.active_since is not None:
            conversation.live_seconds += max(0, int((now - conversation.active_since).total_seconds()))
        conversation.active_since = None
    elif status == ConversationStatus.ACTIVE and was != ConversationStatus.ACTIVE:
        conversation.active_since = now
    conversation.status = status


class EndReason(enum.StrEnum):
    """Why a conversation ended, or was refused at the door."""

    EXPERT = "expert"
    VISITOR = "visitor"
    INACTIVITY = "inactivity"
    LEFT = "left"
    MAX_WAIT = "max_wait"
    CLOSED_HOURS = "closed_hours"
    MAX_CONCURRENT = "max_concurrent"
    DAILY_CAP = "daily_cap"
    MONTHLY_BUDGET = "monthly_budget"
    MAX_ACTIVE_EXPERTS = "max_active_experts"
    BOT_CONFIRMED = "bot_confirmed"  # resolved: the visitor said the bot's answer helped
    BOT_UNCONFIRMED = "bot_unconfirmed"  # resolved: the visitor asked nothing more after the bot's answer


class OfferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    RESCINDED = "rescinded"


class Sender(enum.StrEnum):
    VISITOR = "visitor"
    EXPERT = "expert"
    SYSTEM = "system"
    BOT = "bot"  # the brand's FAQ bot, labelled as automated wherever it shows


# The statuses of OPEN_STATUSES as SQL, for the partial index that holds one open conversation per visitor.
_OPEN = sa.text("status IN ({})".format(", ".join(f"'{status.value}'" for status in OPEN_STATUSES)))


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        sa.Index("ix_conversations_brand_created", "brand_id", "created_at"),
        # One open conversation per visitor and brand: two tabs starting one at once cannot both insert.
        sa.Index("uq_conversations_one_open", "brand_id", "visitor_token_hash", unique=True,
                 sqlite_where=_OPEN, postgresql_where=_OPEN),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint("last_seq >= 0", name="last_seq"),
        sa.CheckConstraint("handed_back >= 0", name="handed_back"),
        # The retention job's query (routing/retention/): the brand's ended conversations not yet anonymised.
        sa.Index("ix_conversations_retention", "brand_id", "closed_at",
                 sqlite_where=sa.text("anonymised_at IS NULL"), postgresql_where=sa.text("anonymised_at IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    channel: so.Mapped[Channel] = so.mapped_column(enum_column(Channel, "channel"), default=Channel.WEB)
    status: so.Mapped[ConversationStatus] = so.mapped_column(
        enum_column(ConversationStatus, "conversation_status"), default=ConversationStatus.WAITING
    )
    end_reason: so.Mapped[EndReason | None] = so.mapped_column(enum_column(EndReason, "end_reason"))
    priority: so.Mapped[int] = so.mapped_column(default=0)
    topic: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    page_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    visitor_token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    # Keyed fingerprints of the visitor's and the accepting expert's network (never the addresses): equal
    # ones mean the expert may be chatting with themselves, a fraud check of payouts.
    visitor_network: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    expert_network: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    queued_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    visitor_seen_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # Set while an active chat's visitor page has stopped checking in (VISITOR_GRACE_SECONDS); cleared when it
    # checks in again. The expert sees that the visitor left.
    visitor_left_at: so.Mapped[dt.datetime | None]
    # A way back to a visitor who leaves: an address they gave, with their consent to be written to there. With
    # it, a chat whose visitor leaves becomes asynchronous instead of waiting for a page that is gone.
    visitor_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    visitor_email_consent_at: so.Mapped[dt.datetime | None]
    # Another way back: since when a browser of the visitor takes Web Push for this conversation
    # (routing/visitor_push/); None once none does. Kept here, beside the address, so deciding whether a leaving
    # visitor can be reached reads the row it has already, never a second table.
    visitor_push_at: so.Mapped[dt.datetime | None]
    # How many times the conversation went back to the queue after an expert had it (the visitor wrote while that
    # expert had no room, or after it closed) and was taken there: while an expert holds it, its accepted offers
    # number handed_back + 1 (a hand-back that returned to the same expert unanswered does not count).
    handed_back: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # E-mail continuation (continuation/digest.py): the last message the visitor was e-mailed, and when the next
    # e-mail is due (set by an expert's message while the visitor is away, cleared when it goes). Stored, so a
    # restart neither loses nor repeats one.
    continuation_sent_seq: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    continuation_due_at: so.Mapped[dt.datetime | None] = so.mapped_column(index=True)
    # A second browser bound through the e-mailed resume link (continuation/resume.py): its token's hash also
    # proves the conversation is the visitor's; the first browser keeps its own.
    resumed_token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    transcript_sent_at: so.Mapped[dt.datetime | None]  # the last transcript e-mailed on the visitor's request
    last_activity_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expert_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="SET NULL"), index=True
    )
    accepted_at: so.Mapped[dt.datetime | None]
    # When the brand's FAQ bot handed it over to a person (routing/bot/): experts' first-reply times count from then.
    handed_over_at: so.Mapped[dt.datetime | None]
    first_reply_at: so.Mapped[dt.datetime | None]
    closed_at: so.Mapped[dt.datetime | None]
    # Live time (set_status): the seconds spent active before the current stretch, and when that stretch began
    # (None while not active). Null live time: unknown (a chat whose visitor gave an address before it was kept,
    # who may have been away meanwhile); the planner leaves those out.
    live_seconds: so.Mapped[int | None] = so.mapped_column(default=0, server_default="0")
    active_since: so.Mapped[dt.datetime | None]
    rate_cents: so.Mapped[int | None]  # the price on the brand's rate card in effect at acceptance
    rate_card_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rate_cards.id", ondelete="SET NULL"))
    last_seq: so.Mapped[int] = so.mapped_column(default=0)
    expert_read_seq: so.Mapped[int] = so.mapped_column(default=0)
    rating: so.Mapped[int | None]  # what the visitor gave, kept for audit: count `counted_rating` instead
    rating_comment: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    rated_at: so.Mapped[dt.datetime | None]
    # Set when the brand upheld the expert's contest of the rating (routing/ratings/): it no longer counts.
    rating_removed_at: so.Mapped[dt.datetime | None]

    # The one definition of a rating that counts (averages, bonuses, invitation ranking, dashboards, exports,
    # APIs): the visitor's rating unless the brand removed it after the expert contested it. NULL otherwise, so
    # SQL's count() and sum() leave it out as they leave out an unrated chat. Aggregate this, never `rating`.
    @hybrid_property
    def counted_rating(self) -> int | None:
        return self.rating if self.rating_removed_at is None else None

    @counted_rating.inplace.expression
    @classmethod
    def _counted_rating_sql(cls) -> sa.ColumnElement[int | None]:
        return sa.case((cls.rating_removed_at.is_(None), cls.rating), else_=sa.null())
    # The brand's contact this visitor proved to be (routing/contacts/): always a contact of the same brand.
    contact_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    # A messaging app's conversation (routing/channels/): the brand's connected account it came through, the
    # customer's id there (WhatsApp wa_id, Messenger page-scoped id), when they last wrote (the platform's time)
    # and when a person's free reply stops being allowed (Meta's customer service window).
    channel_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("brand_channels.id", ondelete="SET NULL"), index=True)
    channel_customer: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    customer_wrote_at: so.Mapped[dt.datetime | None]
    window_closes_at: so.Mapped[dt.datetime | None]
    # When its text, files and the visitor's identifiers were removed (routing/retention/: the brand's retention
    # period ran out, or the contact asked to be erased); its figures (times, status, expert, rating) stay.
    anonymised_at: so.Mapped[dt.datetime | None]


# Rule 5's order, highest priority first, so the router reads the brand's queue off the index unsorted.
# (Autogenerate sees the DESC on PostgreSQL only: a change to this index needs a hand-written migration.)
sa.Index("ix_conversations_queue", Conversation.brand_id, Conversation.status, Conversation.priority.desc(),
         Conversation.queued_at, Conversation.id)


class Offer(db.Model):
    """A reservation of one expert for one conversation, for the brand's offer timeout."""

    __tablename__ = "offers"
    __table_args__ = (
        # Never offered twice to the same expert (rule 4), and at most one live offer (rule 1).
        sa.UniqueConstraint("conversation_id", "expert_id", name="uq_offers_conversation_expert"),
        sa.Index("uq_offers_one_pending", "conversation_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_offers_status_expires", "status", "expires_at"),
        sa.Index("ix_offers_created_at", "created_at"),  # the hour's offers (router/passed_over.py)
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    expert_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True
    )
    status: so.Mapped[OfferStatus] = so.mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.PENDING
    )
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[dt.datetime]
    decided_at: so.Mapped[dt.datetime | None]


class Message(db.Model):
    """One message, numbered within its conversation; a resend with the same client id is the same message."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "sender", "client_id", name="uq_messages_conversation_client"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: so.Mapped[int]
    sender: so.Mapped[Sender] = so.mapped_column(enum_column(Sender, "message_sender"))
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    body: so.Mapped[str] = so.mapped_column(sa.Text)  # empty, or a caption, when it carries an attachment
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # Loaded on purpose where a message is shown (chat/messages.py), never behind the caller's back.
    attachment: so.Mapped[Attachment | None] = so.relationship(lazy="raise", viewonly=True)
    # What became of it on a messaging app (an expert's message in a channel conversation), loaded alike.
    delivery: so.Mapped[ChannelDelivery | None] = so.relationship(lazy="raise", viewonly=True)


class VisitorPushSubscription(db.Model):
    """A visitor's browser that takes Web Push for one conversation (routing/visitor_push/): the visitor has no
    account, so the subscription belongs to the conversation, and goes with it."""

    __tablename__ = "visitor_push_subscriptions"
    __table_args__ = (sa.UniqueConstraint("conversation_id", "endpoint", name="uq_visitor_push_conversation_endpoint"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(1000))
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(200))
    auth: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_success_at: so.Mapped[dt.datetime | None]
    failure_count: so.Mapped[int] = so.mapped_column(default=0)


# What a chat takes, as the sender is told before choosing a file (the content decides, attachments/inspection.py).
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf")


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"


class Attachment(db.Model):
    """A file sent in a conversation: checked, cleaned and stored (routing/attachments/), carried by one message.

    The row says where the stored copies are (`storage_key`, and `thumbnail_key` for an image); the files go
    when the conversation's transcript goes (attachments.services.delete_conversation_attachments).
    """

    __tablename__ = "attachments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    kind: so.Mapped[AttachmentKind] = so.mapped_column(enum_column(AttachmentKind, "attachment_kind"))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(40))  # from the content, never the sender's word
    filename: so.Mapped[str] = so.mapped_column(sa.String(120))
    size: so.Mapped[int]  # bytes stored (after cleaning)
    width: so.Mapped[int | None]
    height: so.Mapped[int | None]
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(120))
    thumbnail_key: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class ExpertLoad(db.Model):
    """An expert's live chats, pending offers and asynchronous chats, kept equal to the rows; the router locks this
    row. Only the live ones (`load`) count against the expert's concurrency."""

    __tablename__ = "expert_loads"
    __table_args__ = (
        sa.CheckConstraint("open_chats >= 0", name="open_chats"),
        sa.CheckConstraint("pending_offers >= 0", name="pending_offers"),
        sa.CheckConstraint("async_chats >= 0", name="async_chats"),
        # Rule 5's order, so the router's pick walks this index and stops at the first expert who fits
        # instead of sorting every online expert on each decision.
        sa.Index("ix_expert_loads_pick", "load", "ever_offered", "last_offered_at", "expert_id"),
    )

    expert_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    open_chats: so.Mapped[int] = so.mapped_column(default=0)  # active: the visitor is there
    pending_offers: so.Mapped[int] = so.mapped_column(default=0)
    async_chats: so.Mapped[int] = so.mapped_column(default=0, server_default="0")  # the visitor is away
    last_offered_at: so.Mapped[dt.datetime | None]
    # Computed by the database (stored on PostgreSQL, virtual on SQLite), for the index above: an index on
    # expressions cannot be compared with the models on SQLite, and the two databases sort NULL at opposite
    # ends, while never offered must come first (idlest).
    load: so.Mapped[int] = so.mapped_column(sa.Computed("open_chats + pending_offers"))
    ever_offered: so.Mapped[bool] = so.mapped_column(sa.Computed("last_offered_at IS NOT NULL"))


class BrandLoad(db.Model):
    """A brand's live and asynchronous conversations and what it has committed today and this month (in its
    timezone).

    Every routing decision for the brand locks this row first, so decisions for one brand take turns.
    """

    __tablename__ = "brand_loads"
    __table_args__ = (
        sa.CheckConstraint("open_conversations >= 0", name="open_conversations"),
        sa.CheckConstraint("async_conversations >= 0", name="async_conversations"),
        sa.CheckConstraint("pending_offers >= 0", name="pending_offers"),
        sa.CheckConstraint("day_accepted >= 0", name="day_accepted"),
        sa.CheckConstraint("month_committed_cents >= 0", name="month_committed"),
    )

    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    open_conversations: so.Mapped[int] = so.mapped_column(default=0)  # live: waiting, offered, active
    async_conversations: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    pending_offers: so.Mapped[int] = so.mapped_column(default=0)
    day: so.Mapped[dt.date | None]
    day_accepted: so.Mapped[int] = so.mapped_column(default=0)
    month: so.Mapped[str | None] = so.mapped_column(sa.String(7))
    month_committed_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    refusals: so.Mapped[int] = so.mapped_column(default=0)


class Contact(db.Model):
    """A customer who proved an address or a phone number to one brand: that brand's only (rule 14).

    Proved by the resume link of an e-mail (`email`), or by writing from WhatsApp, whose numbers WhatsApp verified
    (`phone`, E.164); a handover code joins the two. The same address or number with two brands is two contacts,
    never linked. A contact merged into another keeps its row (`merged_into_id`) so that a later proof of its
    address or number finds the one it went to.
    """

    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("brand_id", "email_normalised", name="uq_contacts_brand_email"),
                      sa.UniqueConstraint("brand_id", "phone", name="uq_contacts_brand_phone"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))  # as first proved, for people to read
    email_normalised: so.Mapped[str | None] = so.mapped_column(sa.String(254))  # lower-cased, the domain in IDNA
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))  # E.164, "+33612345678"
    display_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    proved_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)  # the last proof
    merged_into_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))


class LeftMessage(db.Model):
    """What a visitor left for the brand when no expert could answer: it lands in the brand's inbox."""

    __tablename__ = "left_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    conversation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL"), unique=True
    )
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    body: so.Mapped[str] = so.mapped_column(sa.String(4000))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    read_at: so.Mapped[dt.datetime | None]
    replied_at: so.Mapped[dt.datetime | None]
    replied_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reply: so.Mapped[str | None] = so.mapped_column(sa.String(4000))


class ContestStatus(enum.StrEnum):
    PENDING = "pending"  # the brand has not answered yet
    KEPT = "kept"  # the brand kept the rating, with its written answer
    REMOVED = "removed"  # the brand removed it: Conversation.rating_removed_at, it counts nowhere


class RatingContest(db.Model):
    """An expert's written contest of the rating a visitor gave their chat, once per chat, and the brand's answer."""

    __tablename__ = "rating_contests"
    __table_args__ = (sa.Index("ix_rating_contests_brand_status", "brand_id", "status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    rating: so.Mapped[int]  # the rating contested, as it was
    reason: so.Mapped[str] = so.mapped_column(sa.String(2000))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    status: so.Mapped[ContestStatus] = so.mapped_column(
        enum_column(ContestStatus, "rating_contest_status"), default=ContestStatus.PENDING)
    answer: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    decided_at: so.Mapped[dt.datetime | None]
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class VisitorReportReason(enum.StrEnum):
    INSULTS = "insults"
    HARASSMENT = "harassment"
    THREATS = "threats"
    SPAM = "spam"
    OTHER = "other"


class VisitorReport(db.Model):
    """An expert's report of an abusive visitor in a chat they answered, once per expert and chat; the brand sees it."""

    __tablename__ = "visitor_reports"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "expert_id", name="uq_visitor_reports_conversation_expert"),
        sa.Index("ix_visitor_reports_brand_created", "brand_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    reason: so.Mapped[VisitorReportReason] = so.mapped_column(enum_column(VisitorReportReason, "visitor_report_reason"))
    comment: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class BrandChannel(db.Model):
    """A messaging app account a brand connected (routing/channels/): a WhatsApp number or a Facebook Page.

    The account id is Meta's (`phone_number_id`, `page_id`), unique per kind: a webhook names it, and it picks the
    app secret that verifies the webhook's signature. The token and the secrets are sealed at rest (sealing.py),
    never shown again. Health: when the customer last wrote through it, and the last error Meta gave.
    """

    __tablename__ = "brand_channels"
    __table_args__ = (sa.UniqueConstraint("kind", "account_id", name="uq_brand_channels_kind_account"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[Channel] = so.mapped_column(enum_column(Channel, "brand_channel_kind"))
    account_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    # A WhatsApp number as people dial it, digits only ("33180000000"): the widget's wa.me link (None: unknown).
    display_phone_number: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    access_token_sealed: so.Mapped[str] = so.mapped_column(sa.Text)
    app_secret_sealed: so.Mapped[str] = so.mapped_column(sa.Text)
    verify_token_sealed: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_inbound_at: so.Mapped[dt.datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    last_error_at: so.Mapped[dt.datetime | None]


class DeliveryState(enum.StrEnum):
    """An outbound channel message: noted with the message, claimed to send, then as Meta reports it."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class FeeCategory(enum.StrEnum):
    """What kind of message a channel fee prices: a free reply inside the customer's window, or a template's kind."""

    SERVICE = "service"
    UTILITY = "utility"
    MARKETING = "marketing"
    AUTHENTICATION = "authentication"


class ChannelFee(db.Model):
    """What the brand pays per outbound message of one app and category, from a day on (routing/channels/fees.py)."""

    __tablename__ = "channel_fees"
    __table_args__ = (
        sa.Index("ix_channel_fees_lookup", "brand_id", "kind", "category", "effective_from"),
        sa.CheckConstraint("amount_cents >= 0", name="amount"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    kind: so.Mapped[Channel] = so.mapped_column(enum_column(Channel, "channel_fee_kind"))
    category: so.Mapped[FeeCategory] = so.mapped_column(enum_column(FeeCategory, "channel_fee_category"))
    amount_cents: so.Mapped[int]
    effective_from: so.Mapped[dt.date]  # a day in the brand's timezone
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class ChannelHold(db.Model):
    """An expert's channel message refused because its fee would have passed the brand's monthly budget: what the
    brand is told (its dashboard), kept apart from the message, which was never stored."""

    __tablename__ = "channel_holds"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    conversation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL"))
    fee_cents: so.Mapped[int]
    held_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class ChannelDelivery(db.Model):
    """An expert's message on its way to a messaging app: the outbox row noted in the message's transaction, sent
    after the commit (routing/channels/outbound.py), then moved by Meta's status webhooks (statuses.py)."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "platform_message_id", name="uq_channel_deliveries_platform_id"),
        sa.Index("ix_channel_deliveries_state_due", "state", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
    )

    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"),
                                                  primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("brand_channels.id", ondelete="SET NULL"))
    state: so.Mapped[DeliveryState] = so.mapped_column(enum_column(DeliveryState, "delivery_state"),
                                                       default=DeliveryState.PENDING)
    platform_message_id: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    error_code: so.Mapped[int | None]
    error_text: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    next_attempt_at: so.Mapped[dt.datetime | None]
    sent_at: so.Mapped[dt.datetime | None]
    delivered_at: so.Mapped[dt.datetime | None]
    read_at: so.Mapped[dt.datetime | None]
    failed_at: so.Mapped[dt.datetime | None]
    # The brand's fee for it, noted with the message; it counts (budget, invoice) unless the send finally failed.
    fee_cents: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    fee_category: so.Mapped[FeeCategory | None] = so.mapped_column(enum_column(FeeCategory, "delivery_fee_category"))
    # A template send (routing/channels/templates.py): what Graph is asked to send instead of the message's text,
    # copied here so a template edited or deleted meanwhile changes nothing about a message already written.
    template_name: so.Mapped[str | None] = so.mapped_column(sa.String(512))
    template_language: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    template_parameters: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)


class ChannelEarlyStatus(db.Model):
    """A status Meta posted for a message id no outbound record holds yet: it may come before our send has recorded
    the id Graph answered with (routing/channels/statuses.py). Applied once the id is recorded; forgotten a day on
    (a message sent by other means, Meta's inbox or another tool, is no record of ours). One row per status of a
    message: Meta's redelivery of it is the same row."""

    __tablename__ = "channel_early_statuses"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "platform_message_id", "state", name="uq_channel_early_statuses_state"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brand_channels.id", ondelete="CASCADE"))
    platform_message_id: so.Mapped[str] = so.mapped_column(sa.String(128))
    state: so.Mapped[DeliveryState] = so.mapped_column(enum_column(DeliveryState, "delivery_state"))
    occurred_at: so.Mapped[dt.datetime]  # Meta's time of it
    error_code: so.Mapped[int | None]
    error_text: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    received_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)


class ChannelWatermark(db.Model):
    """A Messenger person's latest receipts on one page: every message sent to them before `delivered_up_to` was
    delivered, before `read_up_to` read (Meta's watermarks name no message, only a time). Kept for a send that
    records its message after a receipt covering it came (routing/channels/statuses.py); the receipt and the send
    both lock this row first, so one always sees the other. Forgotten a day after it last changed."""

    __tablename__ = "channel_watermarks"

    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brand_channels.id", ondelete="CASCADE"),
                                                  primary_key=True)
    customer: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)  # the page-scoped id
    delivered_up_to: so.Mapped[dt.datetime | None]
    delivered_at: so.Mapped[dt.datetime | None]  # Meta's time of the receipt that carried it
    read_up_to: so.Mapped[dt.datetime | None]
    read_at: so.Mapped[dt.datetime | None]
    received_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)


class TemplateCategory(enum.StrEnum):
    """Meta's categories of a WhatsApp message template (they price it)."""

    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


class TemplateStatus(enum.StrEnum):
    """Where Meta's review of a template stands, as the brand records it: only an approved one may be sent."""

    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"


class ChannelTemplate(db.Model):
    """A message template of a brand's WhatsApp number, as the brand recorded it from WhatsApp Manager: what the
    expert may send once the customer's 24-hour window has closed (routing/channels/templates.py).

    `body` is the template's text with its {{1}}, {{2}}... placeholders, which shows the expert what they send and
    stores the message as the customer reads it; `parameters` is how many placeholders it has (from the body).
    """

    __tablename__ = "channel_templates"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "name", "language", name="uq_channel_templates_channel_name_language"),
        sa.CheckConstraint("parameters >= 0", name="parameters"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brand_channels.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(512))
    language: so.Mapped[str] = so.mapped_column(sa.String(16))
    category: so.Mapped[TemplateCategory] = so.mapped_column(enum_column(TemplateCategory, "template_category"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    parameters: so.Mapped[int] = so.mapped_column(default=0)
    status: so.Mapped[TemplateStatus] = so.mapped_column(enum_column(TemplateStatus, "template_status"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
