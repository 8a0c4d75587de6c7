"""The base of every factory: rows added to the app's session and flushed, never committed."""

from __future__ import annotations

from factory.alchemy import SQLAlchemyModelFactory

from marketplace.database import db


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"
