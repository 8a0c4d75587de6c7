"""Brands, memberships and per-brand API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.accounts.models import Role, User
from marketplace.database import db, enum_column, utcnow


def new_widget_key() -> str:
    """A brand's public widget key: it only names the brand, so it may sit in any web page."""
    return "pk_" + secrets.token_urlsafe(18)


# How long a brand may keep its conversations' personal data after they end, in months: the table's check constraint.
RETENTION_MONTHS = (1, 120)
DEFAULT_RETENTION_MONTHS = 12


class BrandRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class EnrolmentApproval(enum.StrEnum):
    """Whether an expert who passed the brand's quiz still waits for a member's approval."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"


class Brand(db.Model):
    __tablename__ = "brands"
    __table_args__ = (
        sa.CheckConstraint("offer_timeout_seconds BETWEEN 5 AND 600", name="offer_timeout"),
        sa.CheckConstraint("max_wait_seconds BETWEEN 10 AND 86400", name="max_wait"),
        sa.CheckConstraint("inactivity_close_minutes BETWEEN 1 AND 1440", name="inactivity_close"),
        sa.CheckConstraint("expert_concurrency BETWEEN 1 AND 10", name="expert_concurrency"),
        sa.CheckConstraint("async_expert_limit BETWEEN 0 AND 100", name="async_expert_limit"),
        sa.CheckConstraint("async_first_reply_minutes BETWEEN 1 AND 1440", name="async_first_reply"),
        sa.CheckConstraint("async_quiet_hours BETWEEN 1 AND 2160", name="async_quiet"),
        sa.CheckConstraint("reopen_window_hours BETWEEN 0 AND 2160", name="reopen_window"),
        sa.CheckConstraint("planner_bonus_cents BETWEEN 0 AND 100000", name="planner_bonus_cents"),
        sa.CheckConstraint("max_concurrent IS NULL OR max_concurrent >= 0", name="max_concurrent"),
        sa.CheckConstraint("max_active_experts IS NULL OR max_active_experts >= 0", name="max_active_experts"),
        sa.CheckConstraint("daily_cap IS NULL OR daily_cap >= 0", name="daily_cap"),
        sa.CheckConstraint("monthly_budget_cents IS NULL OR monthly_budget_cents >= 0", name="monthly_budget"),
        sa.CheckConstraint("service_level_percent BETWEEN 1 AND 100", name="service_level_percent"),
        sa.CheckConstraint("service_level_seconds BETWEEN 5 AND 3600", name="service_level_seconds"),
        sa.CheckConstraint("retention_months BETWEEN 1 AND 120", name="retention_months"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/Paris")
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    enrolment_approval: so.Mapped[EnrolmentApproval] = so.mapped_column(
        enum_column(EnrolmentApproval, "enrolment_approval"), default=EnrolmentApproval.MANUAL,
        server_default=EnrolmentApproval.MANUAL.value,
    )
    allow_unbooked_online: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Personal data (GDPR): months a conversation's text, files, visitor contacts and network fingerprints are kept
    # after it ended; then the retention job anonymises it (routing/retention/). Its figures stay.
    retention_months: so.Mapped[int] = so.mapped_column(sa.Integer, default=DEFAULT_RETENTION_MONTHS,
                                                         server_default=str(DEFAULT_RETENTION_MONTHS))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    # The chat program: what the widget offers and how the router treats the brand's conversations.
    widget_key: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True, default=new_widget_key)
    widget_origins: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    topics: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    languages: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)  # ISO 639-1 codes offered
    opening_hours: so.Mapped[dict[str, list[list[str]]] | None] = so.mapped_column(sa.JSON)  # None: always open
    # Closed on the public holidays of this country (ISO 3166-1, and subdivision) as the holidays library
    # knows them; None: no holidays. One-off closures are BrandClosure rows.
    holiday_country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    holiday_subdivision: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    # Service level: this share of chats gets a first expert reply within this many seconds of arriving.
    service_level_percent: so.Mapped[int] = so.mapped_column(default=80, server_default="80")
    service_level_seconds: so.Mapped[int] = so.mapped_column(default=60, server_default="60")
    offer_timeout_seconds: so.Mapped[int] = so.mapped_column(default=30, server_default="30")
    max_wait_seconds: so.Mapped[int] = so.mapped_column(default=300, server_default="300")
    inactivity_close_minutes: so.Mapped[int] = so.mapped_column(default=15, server_default="15")
    expert_concurrency: so.Mapped[int] = so.mapped_column(default=3, server_default="3")
    # Asynchronous conversations (the visitor left an address and went): how many one expert holds for the brand
    # besides their live chats (0: none, a visitor who leaves is treated as one with no way back), the first reply
    # promised when the visitor writes, the quiet time after which one closes, and how long a visitor's message
    # on a closed chat still continues it (0: never).
    async_expert_limit: so.Mapped[int] = so.mapped_column(default=10, server_default="10")
    async_first_reply_minutes: so.Mapped[int] = so.mapped_column(default=8, server_default="8")
    async_quiet_hours: so.Mapped[int] = so.mapped_column(default=72, server_default="72")
    reopen_window_hours: so.Mapped[int] = so.mapped_column(default=168, server_default="168")
    # The largest file a visitor or an expert may send in the brand's chats, told before they send it.
    attachment_max_bytes: so.Mapped[int] = so.mapped_column(default=10_485_760, server_default="10485760")
    # Paid on top of the rate card for each seat of a shift the capacity planner opens (integer cents).
    planner_bonus_cents: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Demand caps; None means no cap. The price of a chat is on the brand's rate cards.
    max_concurrent: so.Mapped[int | None]
    max_active_experts: so.Mapped[int | None]
    daily_cap: so.Mapped[int | None]
    monthly_budget_cents: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)

    memberships: so.WriteOnlyMapped[BrandMembership] = so.relationship(back_populates="brand")


class BrandClosure(db.Model):
    """A one-off day the brand takes no chats (its own timezone), on top of its weekly hours and holidays."""

    __tablename__ = "brand_closures"
    __table_args__ = (sa.UniqueConstraint("brand_id", "day", name="uq_brand_closures_brand_day"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    day: so.Mapped[dt.date]
    reason: so.Mapped[str] = so.mapped_column(sa.String(120), default="")


class RateCard(db.Model):
    """What the brand pays per answered chat from `effective_from` (a day in the brand's timezone) on.

    Rows are never changed once in effect: a new price is a new row. A chat keeps the card that was in
    effect when it was accepted. A card not yet in effect may be cancelled (kept, for the history).
    """

    __tablename__ = "rate_cards"
    __table_args__ = (
        sa.CheckConstraint("price_cents >= 0", name="price"),
        sa.CheckConstraint("commission_bps BETWEEN 0 AND 10000", name="commission"),
        sa.Index("ix_rate_cards_brand_effective", "brand_id", "effective_from"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    effective_from: so.Mapped[dt.date]
    price_cents: so.Mapped[int]
    commission_bps: so.Mapped[int]  # the platform's share of the price, in hundredths of a percent
    bonus_rules: so.Mapped[list[dict]] = so.mapped_column(sa.JSON, default=list)  # core.rates.BonusRule as dicts
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    cancelled_at: so.Mapped[dt.datetime | None]


class BrandInvitation(db.Model):
    """An e-mailed invitation to join a brand's staff; only a hash of its secret is kept."""

    __tablename__ = "brand_invitations"
    __table_args__ = (
        # One pending invitation per address (stored lower-cased) and brand, however many admins press at once.
        sa.Index("uq_brand_invitations_one_pending", "brand_id", "email", unique=True,
                 sqlite_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
                 postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    role: so.Mapped[BrandRole] = so.mapped_column(enum_column(BrandRole, "invitation_role"))
    secret_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    invited_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[dt.datetime]
    accepted_at: so.Mapped[dt.datetime | None]
    accepted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: so.Mapped[dt.datetime | None]


class BrandMembership(db.Model):
    __tablename__ = "brand_memberships"
    __table_args__ = (sa.UniqueConstraint("brand_id", "user_id", name="uq_brand_memberships_brand_user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[BrandRole] = so.mapped_column(enum_column(BrandRole, "brand_role"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    brand: so.Mapped[Brand] = so.relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A brand's server-to-server credential; only a hash of the secret is kept."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    role: so.Mapped[BrandRole] = so.mapped_column(enum_column(BrandRole, "token_role"))
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    secret_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[dt.datetime | None]
    revoked_at: so.Mapped[dt.datetime | None]


class TokenPrincipal:
    """Who is calling when a request carries a brand API token: that brand, at the token's role."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_token = True
    role = Role.BRAND

    def __init__(self, token: ApiToken):
        self.token_id = token.id
        self.brand_id = token.brand_id
        self.brand_role = BrandRole(token.role)
        self.id = None
        self.email = None
        self.full_name = f"API token {token.name}"

    def get_id(self) -> None:  # never stored in a session
        return None



# Who a brand service acts for: a person (with their role and memberships) or a brand's API token.
Actor = User | TokenPrincipal


class Quiz(db.Model):
    """A brand's product quiz: experts must reach the pass mark before the brand decides on them.

    `version` changes whenever the questions change, so an attempt begun on older questions is refused.
    """

    __tablename__ = "quizzes"
    __table_args__ = (
        sa.CheckConstraint("pass_mark_percent BETWEEN 1 AND 100", name="pass_mark"),
        sa.CheckConstraint("max_attempts >= 1", name="max_attempts"),
        sa.CheckConstraint("cooldown_hours >= 0", name="cooldown"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), unique=True)
    pass_mark_percent: so.Mapped[int] = so.mapped_column(default=80)
    max_attempts: so.Mapped[int] = so.mapped_column(default=2)
    cooldown_hours: so.Mapped[int] = so.mapped_column(default=24)
    version: so.Mapped[int] = so.mapped_column(default=1)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    questions: so.Mapped[list[QuizQuestion]] = so.relationship(
        back_populates="quiz", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )


class QuizQuestion(db.Model):
    __tablename__ = "quiz_questions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    text: so.Mapped[str] = so.mapped_column(sa.String(500))

    quiz: so.Mapped[Quiz] = so.relationship(back_populates="questions")
    choices: so.Mapped[list[QuizChoice]] = so.relationship(
        back_populates="question", order_by="QuizChoice.position", cascade="all, delete-orphan"
    )


class QuizChoice(db.Model):
    __tablename__ = "quiz_choices"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    text: so.Mapped[str] = so.mapped_column(sa.String(200))
    is_correct: so.Mapped[bool] = so.mapped_column(default=False)

    question: so.Mapped[QuizQuestion] = so.relationship(back_populates="choices")


class CannedAnswer(db.Model):
    """A ready-made reply a brand gives its experts to insert in a chat."""

    __tablename__ = "canned_answers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    title: so.Mapped[str] = so.mapped_column(sa.String(80))
    body: so.Mapped[str] = so.mapped_column(sa.String(2000))
