"""Proofs of one address arriving at once make one contact, with real commits on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import Contact, Conversation
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory
from tests.routing.conftest import visitor_token
from tests.routing.contacts.conftest import chat_with_address

ROUNDS = 8
THREADS = 4


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("contact_proofs"), "contact_proofs") as app:
        yield app


def _prove_at_once(app: Flask, proofs: list[tuple[int, str]]) -> list[BaseException]:
    barrier = threading.Barrier(len(proofs))
    errors: list[BaseException] = []

    def prove(conversation_id: int, email: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                contacts.address_proved(conversation_id, email)
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=prove, args=proof) for proof in proofs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_simultaneous_proofs_of_one_address_make_one_contact_linking_every_chat(committed_app):
    with committed_app.app_context():
        brand = BrandFactory()
        rounds = []
        for n in range(ROUNDS):
            email = f"ana{n}@example.com"
            # The same conversation proved twice, and two other browsers' conversations with the same address.
            chats = [chat_with_address(brand, visitor_token(), email) for _ in range(THREADS - 1)]
            rounds.append((email, [chats[0].id, *(chat.id for chat in chats)]))
        db.session.commit()
        brand_id = brand.id
    for email, conversation_ids in rounds:
        assert _prove_at_once(committed_app, [(cid, email.upper()) for cid in conversation_ids]) == []
    with committed_app.app_context():
        for email, conversation_ids in rounds:
            ids = list(db.session.scalars(sa.select(Contact.id).where(Contact.brand_id == brand_id,
                                                                      Contact.email_normalised == email)))
            assert len(ids) == 1, email
            linked = set(db.session.scalars(sa.select(Conversation.contact_id)
                                            .where(Conversation.id.in_(conversation_ids))))
            assert linked == {ids[0]}, email
        db.session.remove()
