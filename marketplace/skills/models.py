"""The product-skill taxonomy that experts, brands and ops share."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, utcnow


class Skill(db.Model):
    """One product area an expert may know; named in each language the site speaks."""

    __tablename__ = "skills"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(60))
    names: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    def name_in(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.slug
