"""The FAQ beside the expert's composer: the brand's entries for the visitor's last message, and a good answer
proposed as a new entry, only in the expert's own chats."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import db
from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings
from marketplace.routing.chat.messages import post_message
from marketplace.routing.models import Offer, Sender
from marketplace.routing.router import offers
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.conftest import arrive, online_expert


@pytest.fixture
def held(session, brand):
    """A chat Emma holds, whose visitor asked about delivery; the brand has two entries (the bot is off)."""
    db.session.add(FaqSettings(brand_id=brand.id, bot_enabled=False, threshold=0.5, resolve_after_minutes=10,
                               credit_cents=0, synonyms="", version=1))
    db.session.add_all([
        FaqEntry(brand_id=brand.id, ref="delivery", lang="fr", question="Quels sont vos délais de livraison ?",
                 answer="En 2 à 3 jours ouvrés.", tags=[]),
        FaqEntry(brand_id=brand.id, ref="returns", lang="fr", question="Comment retourner un article ?",
                 answer="Depuis votre espace client, sous 30 jours.", tags=[]),
    ])
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer_id = session.scalar(sa.select(Offer.id).where(Offer.conversation_id == conversation.id))
    offers.accept_offer(expert.id, offer_id)
    post_message(conversation.id, Sender.VISITOR, "v1", "bonjour, quel délai pour la livraison svp ?")
    return conversation.id, expert


def test_the_expert_gets_the_entries_matching_the_visitors_last_message(client, session, held):
    conversation_id, expert = held
    log_in(client, session.get(User, expert.user_id).email)
    answer = client.get(f"/api/v1/conversations/{conversation_id}/faq-suggestions")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["for_seq"] == 1
    assert body["suggestions"][0]["ref"] == "delivery"
    assert body["suggestions"][0]["answer"] == "En 2 à 3 jours ouvrés."


def test_an_expert_proposes_an_answer_and_it_waits_for_the_brand(client, session, held):
    conversation_id, expert = held
    csrf = log_in(client, session.get(User, expert.user_id).email)
    answer = client.post(f"/api/v1/conversations/{conversation_id}/faq-proposals", headers={"X-CSRFToken": csrf},
                         json={"question": "Livrez-vous en Belgique ?", "answer": "Oui, en 4 jours ouvrés."})
    assert answer.status_code == 201, answer.get_json()
    entry = session.get(FaqEntry, answer.get_json()["id"])
    assert (entry.status, entry.author_expert_id, entry.source_conversation_id, entry.lang) == \
        (EntryStatus.PROPOSED, expert.id, conversation_id, "fr")
    bad = client.post(f"/api/v1/conversations/{conversation_id}/faq-proposals", headers={"X-CSRFToken": csrf},
                      json={"question": "Livrez-vous en Suisse ?", "answer": ""})
    assert bad.status_code == 422 and "answer" in bad.get_json()["errors"]


def test_another_experts_chat_is_not_found(client, session, held):
    conversation_id, _expert = held
    other = online_expert(BrandFactory())
    session.commit()
    csrf = log_in(client, session.get(User, other.user_id).email)
    assert client.get(f"/api/v1/conversations/{conversation_id}/faq-suggestions").status_code == 404
    answer = client.post(f"/api/v1/conversations/{conversation_id}/faq-proposals", headers={"X-CSRFToken": csrf},
                         json={"question": "Une question ?", "answer": "Une réponse."})
    assert answer.status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(FaqEntry)
                          .where(FaqEntry.status == EntryStatus.PROPOSED)) == 0
