"""The base of every factory: rows added to the app's session and committed, as a service finds them."""

from __future__ import annotations

from factory.alchemy import SQLAlchemyModelFactory

from marketplace.database import db


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        # Committed (a released savepoint inside the test's rolled-back transaction), as the rows a service
        # finds in production are: a service that refuses rolls its own work back, not the test's data.
        sqlalchemy_session_persistence = "commit"
