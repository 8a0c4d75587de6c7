"""The digest: an expert's replies to an away visitor go out as one e-mail per conversation per window."""

from __future__ import annotations

import datetime as dt
import re

from marketplace.database import db, utcnow
from marketplace.mail import text_of
from marketplace.routing.chat import messages
from marketplace.routing.continuation import digest
from marketplace.routing.door import departures
from marketplace.routing.models import Conversation, ConversationStatus, Sender
from tests.routing.conftest import online_expert
from tests.routing.continuation.conftest import REPLY_DOMAIN, VISITOR_EMAIL
from tests.routing.router.test_asynchronous import chat_with, gone, status_of, visitor_writes


def expert_writes(chat, body: str, number: int) -> None:
    messages.post_message(chat.id, Sender.EXPERT, f"reply-{chat.id}-{number}", body, expert_id=chat.expert.id)


def after_window(app, seconds: int = 1) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=app.config["CONTINUATION_DIGEST_SECONDS"] + seconds)


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def test_two_replies_within_the_window_go_out_as_one_email_holding_both(app, session, brand, away, outbox):
    expert_writes(away, "Le voyant rouge indique un fusible grillé.", 1)
    expert_writes(away, "Il est sous la trappe, à l'arrière.", 2)
    assert digest.send_due(utcnow()) == 0  # not before the window ends
    assert digest.send_due(after_window(app)) == 1
    [mail] = outbox.to(VISITOR_EMAIL)
    text = text_of(mail)
    assert "fusible grillé" in text and "sous la trappe" in text
    assert "Camille" in text and "Durand" not in text  # the expert's first name only
    assert mail["From"].addresses[0].display_name == "Lumière"
    assert re.fullmatch(rf"reply\+[0-9a-z-]+@{re.escape(REPLY_DOMAIN)}", mail["Reply-To"].addresses[0].addr_spec)
    assert f"/widget/{brand.widget_key}/resume/" in text
    assert digest.send_due(after_window(app, 60)) == 0  # nothing is sent twice


def test_a_reply_after_the_email_went_goes_in_a_second_email_a_window_later(app, session, away, outbox):
    expert_writes(away, "Premier message", 1)
    assert digest.send_due(after_window(app)) == 1
    expert_writes(away, "Second message", 2)
    assert digest.send_due(utcnow()) == 0
    assert digest.send_due(after_window(app)) == 1
    first, second = outbox.to(VISITOR_EMAIL)
    assert "Premier message" in text_of(first)
    assert "Second message" in text_of(second) and "Premier message" not in text_of(second)
    stored = db.session.get(Conversation, away.id, populate_existing=True)
    assert (stored.continuation_sent_seq, stored.continuation_due_at) == (stored.last_seq, None)


def test_the_html_part_escapes_what_the_expert_wrote(app, session, away, outbox):
    expert_writes(away, 'Take the "5 A" fuse & not the 10 A one (5 < 10)', 1)
    digest.send_due(after_window(app))
    [mail] = outbox.to(VISITOR_EMAIL)
    html = html_of(mail)
    assert "Take the &#34;5 A&#34; fuse &amp; not the 10 A one (5 &lt; 10)" in html
    assert 'Take the "5 A" fuse & not the 10 A one (5 < 10)' in text_of(mail)  # the text part as written


def test_the_email_is_in_the_visitors_language(app, session, away, outbox):
    db.session.get(Conversation, away.id).locale = "fr-FR"
    session.commit()
    expert_writes(away, "Bonjour", 1)
    digest.send_due(after_window(app))
    [mail] = outbox.to(VISITOR_EMAIL)
    assert "Camille de Lumière vous a répondu" in str(mail["Subject"])


def test_nothing_is_sent_while_the_visitor_is_on_the_page(app, session, brand, outbox):
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert)  # an address given, but the visitor is still there
    messages.post_message(chat.id, Sender.EXPERT, "present-1", "Vous êtes là ?", expert_id=expert.id)
    assert db.session.get(Conversation, chat.id, populate_existing=True).continuation_due_at is None
    assert digest.send_due(after_window(app)) == 0
    assert outbox.messages == []


def test_nothing_is_sent_to_a_visitor_who_gave_no_address(app, session, brand, outbox):
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert, email=None)
    departures.notice_gone_visitors(gone(app))
    assert status_of(chat.id) == ConversationStatus.ACTIVE  # no way back: not asynchronous
    messages.post_message(chat.id, Sender.EXPERT, "noaddr-1", "Vous êtes là ?", expert_id=expert.id)
    assert digest.send_due(after_window(app)) == 0
    assert outbox.messages == []


def test_a_visitor_back_on_the_page_before_the_window_ends_gets_no_email(app, session, away, outbox):
    expert_writes(away, "La réponse", 1)
    visitor_writes(away.id, "Je suis revenue")  # from the page: back with the expert, the reply shown there
    assert status_of(away.id) == ConversationStatus.ACTIVE
    assert digest.send_due(after_window(app)) == 0
    assert outbox.messages == []


def test_the_due_email_survives_a_restart_as_stored_state(app, session, away, outbox):
    expert_writes(away, "Stored before the crash", 1)
    stored = db.session.get(Conversation, away.id, populate_existing=True)
    assert stored.continuation_due_at is not None  # in the database with the message, not in memory
    db.session.expire_all()
    assert digest.send_due(after_window(app)) == 1
    assert "Stored before the crash" in text_of(outbox.to(VISITOR_EMAIL)[0])
