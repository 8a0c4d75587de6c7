"""A visitor's answer by e-mail comes back into the conversation it answers, and nothing else gets in."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.routing.continuation import inbound, letters
from marketplace.routing.models import Conversation, ConversationStatus, Message, Sender
from tests.factories import BrandFactory
from tests.routing.continuation.conftest import REPLY_DOMAIN, leave_with_address
from tests.routing.continuation.mails import FRENCH_REPLY, OUTLOOK_REPLY, reply, reply_address_of
from tests.routing.router.test_asynchronous import status_of


def visitor_messages(conversation_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Message.body).where(
        Message.conversation_id == conversation_id, Message.sender == Sender.VISITOR).order_by(Message.seq)))


def test_a_reply_lands_in_its_conversation_without_quote_nor_signature(app, session, away):
    posted = inbound.receive(reply(reply_address_of(away.id)).as_bytes())
    assert (posted.created, posted.message.conversation_id, posted.message.sender) == (True, away.id, Sender.VISITOR)
    assert visitor_messages(away.id) == ["Thanks, the fuse was it!"]
    assert status_of(away.id) == ConversationStatus.ASYNCHRONOUS  # the visitor is still away from the page


@pytest.mark.parametrize(("body", "kept"), [(FRENCH_REPLY, "Merci, c'était bien le fusible."),
                                            (OUTLOOK_REPLY, "It works now."),
                                            ("Oui\n> Le voyant rouge ?\n", "Oui")])
def test_quotes_are_cut_in_french_and_outlook_style_too(app, session, away, body, kept):
    inbound.receive(reply(reply_address_of(away.id), body).as_bytes())
    assert visitor_messages(away.id) == [kept]


def test_the_same_mail_delivered_twice_is_stored_once(app, session, away):
    raw = reply(reply_address_of(away.id), message_id="<same-1@example.com>").as_bytes()
    first, second = inbound.receive(raw), inbound.receive(raw)
    assert (first.created, second.created) == (True, False)
    assert second.message.seq == first.message.seq
    assert visitor_messages(away.id) == ["Thanks, the fuse was it!"]


def test_the_token_is_also_found_in_the_envelope_or_delivered_to(app, session, away):
    address = reply_address_of(away.id)
    inbound.receive(reply("Support <support@example.com>").as_bytes(), envelope_recipients=[address])
    inbound.receive(reply("someone@example.com", "Encore", Delivered_To=address).as_bytes())
    assert visitor_messages(away.id) == ["Thanks, the fuse was it!", "Encore"]


def test_the_sender_address_matches_whatever_its_case(app, session, away):
    inbound.receive(reply(reply_address_of(away.id), sender="ANA@EXAMPLE.COM").as_bytes())
    assert visitor_messages(away.id) == ["Thanks, the fuse was it!"]


def test_an_internationalised_domain_matches_in_its_punycode_form(app, session, brand, reply_domain):
    chat = leave_with_address(app, session, brand, email="jose@bücher.example")
    inbound.receive(reply(reply_address_of(chat.id), sender="jose@xn--bcher-kva.example").as_bytes())
    assert visitor_messages(chat.id) == ["Thanks, the fuse was it!"]


def refused(raw: bytes, **options) -> str:
    with pytest.raises(inbound.MailRefused) as caught:
        inbound.receive(raw, **options)
    return caught.value.reason


def test_another_sender_is_refused(app, session, away):
    assert refused(reply(reply_address_of(away.id), sender="eve@example.com").as_bytes()) == "sender does not match"
    assert visitor_messages(away.id) == []


def test_a_forged_token_is_refused_and_attaches_nowhere(app, session, away):
    genuine = reply_address_of(away.id)
    local, _, domain = genuine.partition("@")
    forged = local[:-3] + ("aaa" if not local.endswith("aaa") else "bbb") + "@" + domain
    assert refused(reply(forged).as_bytes()) == "token not for this conversation"
    assert refused(reply(f"reply+not-a-token@{REPLY_DOMAIN}").as_bytes()) == "bad or expired token"
    assert refused(reply("ana@elsewhere.example").as_bytes()) == "no reply address"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.sender == Sender.VISITOR)) == 0


def test_an_expired_token_is_refused(app, session, away):
    issued = utcnow() - dt.timedelta(days=app.config["CONTINUATION_REPLY_TOKEN_DAYS"], minutes=1)
    old = letters.reply_address(db.session.get(Conversation, away.id), issued)
    assert refused(reply(old).as_bytes()) == "bad or expired token"


def test_a_token_never_attaches_to_another_brands_conversation_with_the_same_address(app, session, brand, away):
    other_brand = BrandFactory(name="Autre")
    session.commit()
    other = leave_with_address(app, session, other_brand)  # the same address, another brand
    local, _, domain = reply_address_of(away.id).partition("@")
    conversation, brand_id, expires, signature = local.removeprefix("reply+").split("-")
    for moved in (f"{other.id}-{brand_id}", f"{conversation}-{other_brand.id}", f"{other.id}-{other_brand.id}"):
        assert refused(reply(f"reply+{moved}-{expires}-{signature}@{domain}").as_bytes()) in (
            "token not for this conversation", "bad or expired token")
    assert visitor_messages(away.id) == visitor_messages(other.id) == []


def test_an_automatic_reply_is_refused(app, session, away):
    out_of_office = reply(reply_address_of(away.id), "I am away until Monday.", Auto_Submitted="auto-replied")
    assert refused(out_of_office.as_bytes()) == "automatic reply"


def test_a_reply_with_only_quoted_text_is_refused(app, session, away):
    assert refused(reply(reply_address_of(away.id), "\n> Le voyant rouge ?\n").as_bytes()) == "no new text"
