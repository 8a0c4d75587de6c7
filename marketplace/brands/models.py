"""Brands, memberships and per-brand API tokens."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.accounts.models import Role, enum_column
from marketplace.database import db, utcnow


class BrandRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class Brand(db.Model):
    __tablename__ = "brands"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/Paris")
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    memberships: so.WriteOnlyMapped[BrandMembership] = so.relationship(back_populates="brand")


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
