"""Contacts in a real browser: a brand's admin merges two contacts of the same person in the Contacts tab, and an
expert sees a known visitor's earlier chat with the brand beside the chat they hold.

Chats whose visitor proved an address (the resume link's call) are added to the demo server's own database in a
subprocess, as the e-mail continuation would make them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_brand_console import PASSWORD, demo_database_url, new_brand, success  # noqa: F401 - fixture
from tests.browser.test_chat import accept_the_offer, expert_online_on_chats, shop, visitor_starts_chat  # noqa: F401
from tests.browser.test_demo_logins import log_in, path_is
from tests.browser.test_expert_journey import new_page
from tests.conftest import PROJECT_ROOT, TEST_SECRET

pytestmark = pytest.mark.browser
ADDRESSES = ("ana@example.com", "ana@work.example")


def seed_contacts(database_url: str, slug: str, addresses: list[str]) -> None:
    """Run in a subprocess on the demo server's database: one closed chat per address, each address proved."""
    import datetime as dt
    import secrets

    import sqlalchemy as sa

    from marketplace import create_app
    from marketplace.brands.models import Brand
    from marketplace.database import db, utcnow
    from marketplace.routing.contacts import services as contacts
    from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Message, Sender

    app = create_app(environ={**os.environ, "DATABASE_URL": database_url})
    with app.app_context():
        brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
        chats = []
        for n, address in enumerate(addresses):
            when = utcnow() - dt.timedelta(days=3 - n)
            chat = Conversation(brand_id=brand_id, status=ConversationStatus.CLOSED, end_reason=EndReason.VISITOR,
                                topic=f"Lamp {n + 1}", visitor_token_hash=secrets.token_hex(32), created_at=when,
                                queued_at=when, visitor_seen_at=when, last_activity_at=when, closed_at=when,
                                visitor_email=address, visitor_email_consent_at=when, last_seq=1)
            db.session.add(chat)
            db.session.flush()
            db.session.add(Message(conversation_id=chat.id, seq=1, sender=Sender.VISITOR, client_id="c1",
                                   body=f"My lamp number {n + 1} flickers", created_at=when))
            chats.append((chat.id, address))
        db.session.commit()
        for chat_id, address in chats:
            contacts.address_proved(chat_id, address)


def seed_history(database_url: str, address: str) -> None:
    """Run in a subprocess: the visitor of the demo's latest active chat gave `address` and proved it; the same
    browser had an earlier chat with the brand."""
    import datetime as dt

    import sqlalchemy as sa

    from marketplace import create_app
    from marketplace.database import db, utcnow
    from marketplace.routing.contacts import services as contacts
    from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Message, Sender

    app = create_app(environ={**os.environ, "DATABASE_URL": database_url})
    with app.app_context():
        live = db.session.scalar(sa.select(Conversation).where(Conversation.status == ConversationStatus.ACTIVE)
                                 .order_by(Conversation.id.desc()).limit(1))
        when = utcnow() - dt.timedelta(days=20)
        earlier = Conversation(brand_id=live.brand_id, status=ConversationStatus.CLOSED, end_reason=EndReason.VISITOR,
                               topic=live.topic, visitor_token_hash=live.visitor_token_hash, created_at=when,
                               queued_at=when, visitor_seen_at=when, last_activity_at=when, closed_at=when,
                               rating=5, last_seq=1)
        db.session.add(earlier)
        db.session.flush()
        db.session.add(Message(conversation_id=earlier.id, seq=1, sender=Sender.VISITOR, client_id="c1",
                               body="My reading lamp hums", created_at=when))
        live.visitor_email, live.visitor_email_consent_at = address, utcnow()
        live_id = live.id
        db.session.commit()
        contacts.address_proved(live_id, address)
        print(live_id)


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "SECRET_KEY": TEST_SECRET, "MARKETPLACE_ENV": "development"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", script, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_expert_sees_the_visitors_earlier_chat_with_the_brand_beside_the_chat(browser, demo_server, request,
                                                                                   shop):  # noqa: F811
    errors: list[str] = []
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor, frame = visitor_starts_chat(browser, demo_server, shop, errors)
    accept_the_offer(expert)
    expect(expert.get_by_test_id("chat-input")).to_be_visible()
    expect(expert.get_by_test_id("contact-history")).to_be_hidden()  # nothing proved yet
    live_id = _run("import sys; from tests.browser.test_contacts import seed_history; "
                   "seed_history(sys.argv[1], sys.argv[2])", demo_database_url(request, demo_server),
                   "ana.history@example.com").strip().splitlines()[-1]

    expert.goto(f"/expert/chats?chat={live_id}")
    history = expert.get_by_test_id("contact-history")
    expect(history).to_be_visible()
    history.locator("summary").first.click()
    expect(history.locator("summary").first).to_have_text("Earlier conversations with this brand: 1")
    entry = history.get_by_test_id("history-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Rated 5/5")
    entry.locator("summary").click()
    expect(entry.get_by_test_id("history-transcript")).to_contain_text("My reading lamp hums")
    frame.get_by_test_id("end-chat").click()  # the demo server is shared: no chat is left waiting for an answer
    expect(expert.get_by_test_id("chat-ended")).to_contain_text("The visitor ended this chat.")
    expect(history).to_be_hidden()  # shown only while the expert holds the chat
    assert errors == []


def test_a_brand_admin_merges_two_contacts_of_the_same_person(browser, demo_server, new_brand, request):  # noqa: F811
    _run("import json, sys; from tests.browser.test_contacts import seed_contacts; "
         "seed_contacts(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))",
         demo_database_url(request, demo_server), new_brand.slug, json.dumps(ADDRESSES))

    errors: list[str] = []
    admin = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, new_brand.admin_email, PASSWORD)
    expect(admin).to_have_url(path_is(f"/brands/{new_brand.slug}"))
    admin.get_by_role("link", name="Contacts", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Contacts · Atelier Nord")
    expect(admin.get_by_test_id("contact-row")).to_have_count(2)

    admin.get_by_label("Address or name").fill("example.com")
    admin.get_by_role("button", name="Search", exact=True).click()
    expect(admin.get_by_test_id("contact-row")).to_have_count(1)
    admin.get_by_role("link", name="ana@example.com", exact=True).click()
    expect(admin.get_by_test_id("contact-conversation")).to_have_count(1)

    admin.get_by_label("The other contact").select_option(label="ana@work.example")
    admin.get_by_label("This contact", exact=True).check()
    admin.get_by_role("button", name="Merge the two contacts").click()
    success(admin, "The two contacts are merged: their conversations are all here.")
    expect(admin.get_by_test_id("contact-email")).to_have_text("ana@example.com")
    expect(admin.get_by_test_id("contact-conversation")).to_have_count(2)
    expect(admin.get_by_test_id("contact-conversations")).to_contain_text("My lamp number 2 flickers")

    admin.get_by_role("link", name="All contacts").click()
    expect(admin.get_by_test_id("contact-row")).to_have_count(1)
    assert errors == []
