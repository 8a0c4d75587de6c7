"""The retention job anonymises exactly what ended longer ago than each brand's period, keeps the figures, never
touches a money record, and a second run finds nothing to do."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.routing.models import (
    Attachment,
    ChannelDelivery,
    Contact,
    Conversation,
    LeftMessage,
    Message,
    VisitorPushSubscription,
)
from marketplace.routing.retention import services as retention
from marketplace.routing.retention.services import months_before
from tests.factories import BrandFactory, ClosedChatFactory, RecordedEarningFactory
from tests.routing.retention.conftest import SECRETS, contact_of, personal_chat, written_text

NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
MONEY_TABLES = ("earnings", "ledger_transactions", "ledger_entries", "payout_batches", "payout_items",
                "faq_credits", "channel_fees")


def _money() -> dict[str, list[tuple]]:
    tables = db.metadata.tables
    return {name: [tuple(row) for row in db.session.execute(
        sa.select(tables[name]).order_by(*tables[name].primary_key.columns))] for name in MONEY_TABLES}


def _reloaded(conversation_id: int) -> Conversation:
    return db.session.get(Conversation, conversation_id, populate_existing=True)


@pytest.mark.parametrize(("at", "months", "expected"), [
    (dt.datetime(2026, 12, 7, 1, tzinfo=dt.UTC), 1, dt.datetime(2026, 11, 7, 1, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC), 1, dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)),
    (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 12, dt.datetime(2025, 1, 15, tzinfo=dt.UTC)),
    (dt.datetime(2028, 2, 29, tzinfo=dt.UTC), 120, dt.datetime(2018, 2, 28, tzinfo=dt.UTC)),
])
def test_a_period_counts_calendar_months(at, months, expected):
    assert months_before(at, months) == expected


def test_each_brand_keeps_what_its_own_period_allows_and_no_more(session, files):
    short, default = BrandFactory(retention_months=1), BrandFactory()
    assert default.retention_months == 12
    short_edge, default_edge = months_before(NOW, 1), months_before(NOW, 12)
    expired = [personal_chat(short, files, short_edge - MINUTE), personal_chat(default, files, default_edge - MINUTE)]
    kept = [personal_chat(short, files, short_edge + MINUTE), personal_chat(default, files, default_edge + MINUTE),
            personal_chat(default, files, short_edge - MINUTE)]  # past the other brand's period, not its own
    session.commit()
    kept_before = {chat.id: written_text(chat.id) for chat in kept}

    done = retention.anonymise_expired(NOW)

    assert done["conversations"] == 2 and done["files"] == 2
    for chat in expired:
        text = written_text(chat.id)
        assert not any(secret in text for secret in SECRETS), text
        assert not chat.file.exists()
        conversation = _reloaded(chat.id)
        assert conversation.anonymised_at == NOW
        assert (conversation.visitor_email, conversation.visitor_network, conversation.expert_network,
                conversation.rating_comment, conversation.channel_customer, conversation.page_url,
                conversation.resumed_token_hash, conversation.visitor_push_at, conversation.contact_id) == (None,) * 9
        assert conversation.visitor_token_hash == f"anonymised:{chat.id}"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)
                                 .where(Attachment.conversation_id == chat.id)) == 0
        for model in (VisitorPushSubscription, LeftMessage):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                     .where(model.conversation_id == chat.id)) == 0
        bodies = db.session.scalars(sa.select(Message.body).where(Message.conversation_id == chat.id)).all()
        assert bodies == ["", "", "", ""]
        delivery = db.session.scalar(sa.select(ChannelDelivery).where(ChannelDelivery.conversation_id == chat.id))
        assert (delivery.platform_message_id, delivery.template_parameters, delivery.fee_cents) == (None, None, 5)
    for chat in kept:
        assert written_text(chat.id) == kept_before[chat.id]
        assert chat.file.read_bytes().startswith(b"%PDF")
        assert _reloaded(chat.id).anonymised_at is None


def test_the_figures_stay_for_dashboards_the_planner_and_payouts(session, files):
    brand = BrandFactory(retention_months=1)
    chat = personal_chat(brand, files, NOW - dt.timedelta(days=40))
    session.commit()
    figures = ("brand_id", "channel", "status", "end_reason", "expert_id", "created_at", "queued_at", "accepted_at",
               "first_reply_at", "closed_at", "live_seconds", "rate_cents", "rate_card_id", "last_seq", "rating",
               "rated_at", "topic", "handed_back")
    before = {name: getattr(chat.conversation, name) for name in figures}
    senders = db.session.execute(sa.select(Message.seq, Message.sender, Message.created_at)
                                 .where(Message.conversation_id == chat.id).order_by(Message.seq)).all()

    retention.anonymise_expired(NOW)

    conversation = _reloaded(chat.id)
    assert {name: getattr(conversation, name) for name in figures} == before
    assert db.session.execute(sa.select(Message.seq, Message.sender, Message.created_at)
                              .where(Message.conversation_id == chat.id).order_by(Message.seq)).all() == senders


def test_money_records_are_left_byte_for_byte(session, files):
    brand = BrandFactory(retention_months=1)
    earned = RecordedEarningFactory(brand=brand, now=NOW - dt.timedelta(days=90))
    session.commit()
    before = _money()
    assert before["earnings"] and before["ledger_entries"]

    assert retention.anonymise_expired(NOW)["conversations"] >= 1
    session.expire_all()

    assert _reloaded(earned.conversation_id).anonymised_at == NOW
    assert _money() == before


def test_a_second_run_finds_nothing_to_do_and_changes_nothing(session, files):
    brand = BrandFactory(retention_months=3)
    chats = [personal_chat(brand, files, NOW - dt.timedelta(days=200 + n)) for n in range(3)]
    session.commit()
    assert retention.anonymise_expired(NOW)["conversations"] == 3
    after_first = {chat.id: written_text(chat.id) for chat in chats}

    later = NOW + dt.timedelta(hours=1)
    assert retention.anonymise_expired(later) == {"conversations": 0, "files": 0, "contacts": 0, "left_messages": 0}
    assert {chat.id: written_text(chat.id) for chat in chats} == after_first
    assert {_reloaded(chat.id).anonymised_at for chat in chats} == {NOW}


def test_batches_go_one_after_another_until_none_is_left(session, files, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    brand = BrandFactory(retention_months=1)
    ids = [ClosedChatFactory(brand=brand, closed_at=NOW - dt.timedelta(days=60, minutes=n),
                             visitor_email=f"v{n}@example.com").id for n in range(5)]
    session.commit()
    assert retention.anonymise_expired(NOW)["conversations"] == 5
    assert all(_reloaded(conversation_id).visitor_email is None for conversation_id in ids)


def test_open_conversations_are_never_anonymised(session, files):
    from marketplace.routing.models import ConversationStatus
    from tests.factories import ConversationFactory

    brand = BrandFactory(retention_months=1)
    waiting = ConversationFactory(brand=brand, status=ConversationStatus.ACTIVE,
                                  created_at=NOW - dt.timedelta(days=400), visitor_email="ana@example.com")
    session.commit()
    assert retention.anonymise_expired(NOW)["conversations"] == 0
    assert _reloaded(waiting.id).visitor_email == "ana@example.com"


def test_contacts_go_once_no_conversation_within_the_period_uses_them(session, files):
    brand = BrandFactory(retention_months=1)
    gone, staying = contact_of(brand), contact_of(brand, "bob@example.com", "+33698765432")
    personal_chat(brand, files, NOW - dt.timedelta(days=60), contact=gone)
    old_of_staying = personal_chat(brand, files, NOW - dt.timedelta(days=60), contact=staying)
    recent = personal_chat(brand, files, NOW - dt.timedelta(days=3), contact=staying)
    merged = Contact(brand_id=brand.id, email="ana.old@example.com", email_normalised="ana.old@example.com",
                     merged_into_id=gone.id)
    db.session.add(merged)
    session.commit()
    gone_id, merged_id = gone.id, merged.id

    done = retention.anonymise_expired(NOW)

    assert done["contacts"] == 1  # the one no conversation uses (the one merged into it goes with it)
    remaining = db.session.scalars(sa.select(Contact.id).where(Contact.brand_id == brand.id)).all()
    assert remaining == [staying.id] and gone_id not in remaining and merged_id not in remaining
    assert _reloaded(old_of_staying.id).contact_id is None
    assert _reloaded(recent.id).contact_id == staying.id


def test_the_job_runs_on_the_projects_clock_by_default(session, files, monkeypatch):
    brand = BrandFactory(retention_months=1)
    chat = personal_chat(brand, files, NOW - dt.timedelta(days=32))
    session.commit()
    monkeypatch.setattr(retention, "utcnow", lambda: NOW - dt.timedelta(days=10))  # then it was within the month
    assert retention.anonymise_expired()["conversations"] == 0
    monkeypatch.setattr(retention, "utcnow", lambda: NOW)
    assert retention.anonymise_expired()["conversations"] == 1
    assert _reloaded(chat.id).anonymised_at == NOW


def test_the_job_is_scheduled(app):
    assert "retention" in {job.id for job in app.extensions["scheduled_jobs"]}
