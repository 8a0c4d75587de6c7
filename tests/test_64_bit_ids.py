"""Ids are 64-bit on every database, as the API documents: an id past 2^31 finds nothing (404, not a 500), and
rows are numbered past 2^31 and found again by that id."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.brands.models import BrandRole
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation
from tests.conftest import log_in
from tests.factories import BrandFactory, MembershipFactory
from tests.routing.conftest import visitor_token

PAST_32_BITS = 2**31
BIGGEST = 2**63 - 1


@pytest.mark.parametrize("big_id", [PAST_32_BITS, BIGGEST])
def test_it_answers_404_for_an_id_past_32_bits_in_the_widget(client, session, big_id):
    brand = BrandFactory()
    session.commit()
    token = visitor_token()
    conversations.start_conversation(brand.widget_key, token)

    response = client.get(f"/api/widget/{brand.widget_key}/conversations/{big_id}",
                          headers={"X-Visitor-Token": token})

    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("big_id", [PAST_32_BITS, BIGGEST])
def test_it_answers_404_for_an_id_past_32_bits_in_the_api(client, session, big_id):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    session.commit()
    brand_id = membership.brand.id
    log_in(client, session.get(User, membership.user_id).email)

    transcript = client.get(f"/api/v1/brands/{brand_id}/conversations/{big_id}")
    brand = client.get(f"/api/v1/brands/{big_id}")

    assert transcript.status_code == 404, transcript.get_data(as_text=True)
    assert brand.status_code == 404, brand.get_data(as_text=True)


def test_it_numbers_a_conversation_past_32_bits_and_finds_it_by_that_id(client, session):
    brand = BrandFactory()
    session.commit()
    token = visitor_token()
    with _ids_continuing_from(session, Conversation, PAST_32_BITS + 40):
        started = conversations.start_conversation(brand.widget_key, token)
        conversation_id = started.id

        response = client.get(f"/api/widget/{brand.widget_key}/conversations/{conversation_id}",
                              headers={"X-Visitor-Token": token})

    assert conversation_id > PAST_32_BITS + 40
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["id"] == conversation_id
    assert session.scalar(sa.select(Conversation.status).where(Conversation.id == conversation_id)) == "waiting"


@contextlib.contextmanager
def _ids_continuing_from(session, model, last: int) -> Iterator[None]:
    """Make the table's next id come after `last`: on PostgreSQL through its sequence (set back afterwards, as a
    sequence ignores the test's rollback); on SQLite through a row holding that id (rolled back with the test)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # SQLite numbers a new row after the highest rowid.
        session.add(model(id=last, brand_id=BrandFactory().id, visitor_token_hash="0" * 64, status="closed"))
        session.commit()
        yield
        return
    sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                 {"table": model.__tablename__})
    before = connection.scalar(sa.text("SELECT pg_sequence_last_value(CAST(:sequence AS regclass))"),
                               {"sequence": sequence})  # None: no id taken yet
    connection.execute(sa.text("SELECT setval(:sequence, :last)"), {"sequence": sequence, "last": last})
    try:
        yield
    finally:
        session.connection().execute(sa.text("SELECT setval(:sequence, :last, :called)"),
                                     {"sequence": sequence, "last": before or 1, "called": before is not None})
