"""The reply and resume tokens: signed for one conversation, brand and address, expiring, and not interchangeable."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.database import utcnow
from marketplace.routing.continuation import tokens


def test_a_reply_token_round_trips_and_holds_only_for_its_address(app, session):
    now = utcnow()
    token = tokens.reply_token(42, 7, "Ana@Example.com", now)
    assert len(f"reply+{token}") <= 64 and token == token.lower()  # fits an address's local part, any case
    read = tokens.read(tokens.REPLY, token.upper(), now)  # a mail system may fold the case
    assert (read.conversation_id, read.brand_id) == (42, 7)
    assert read.holds_for("ana@example.com") and not read.holds_for("eve@example.com")
    assert not read.holds_for(None)


def test_a_token_for_another_conversation_or_brand_is_refused(app, session):
    now = utcnow()
    token = tokens.reply_token(42, 7, "ana@example.com", now)
    conversation, brand, expires, signature = token.split("-")
    for forged in (f"43-{brand}-{expires}-{signature}", f"{conversation}-8-{expires}-{signature}"):
        assert not tokens.read(tokens.REPLY, forged, now).holds_for("ana@example.com")


def test_a_token_with_a_later_expiry_written_in_is_refused(app, session):
    now = utcnow()
    conversation, brand, _, signature = tokens.reply_token(42, 7, "ana@example.com", now).split("-")
    later = tokens.read(tokens.REPLY, f"{conversation}-{brand}-zzzzzz-{signature}", now)
    assert not later.holds_for("ana@example.com")


def test_an_expired_token_is_refused(app, session):
    issued = utcnow() - dt.timedelta(days=app.config["CONTINUATION_REPLY_TOKEN_DAYS"], seconds=1)
    assert tokens.read(tokens.REPLY, tokens.reply_token(42, 7, "ana@example.com", issued), utcnow()) is None
    hours = app.config["CONTINUATION_RESUME_TOKEN_HOURS"]
    assert hours * 3600 < app.config["CONTINUATION_REPLY_TOKEN_DAYS"] * 86400  # the link lives shorter
    old_link = tokens.resume_token(42, "ana@example.com", utcnow() - dt.timedelta(hours=hours, seconds=1))
    assert tokens.read(tokens.RESUME, old_link, utcnow()) is None


def test_a_resume_token_does_not_pass_for_a_reply_token_nor_the_reverse(app, session):
    now = utcnow()
    resume = tokens.resume_token(42, "ana@example.com", now)
    assert tokens.read(tokens.REPLY, resume, now) is None
    conversation, _, expires, signature = tokens.reply_token(42, 7, "ana@example.com", now).split("-")
    as_resume = tokens.read(tokens.RESUME, f"{conversation}-{expires}-{signature}", now)
    assert not as_resume.holds_for("ana@example.com")


@pytest.mark.parametrize("garbage", ["", "reply", "1-2-3", "1-2-abc-" + "a" * 26 + "x", "💥-1-2-" + "a" * 26,
                                     "9" * 30 + "-1-a-" + "a" * 26])
def test_malformed_tokens_are_refused(app, session, garbage):
    assert tokens.read(tokens.REPLY, garbage, utcnow()) is None


def test_the_push_tokens_hold_for_the_visitors_token_hash_and_pass_for_no_other_kind(app, session):
    now, visitor = utcnow(), "a" * 64
    resume = tokens.push_resume_token(42, visitor, now)
    opt_in = tokens.push_opt_in_token(42, visitor, dt.timedelta(minutes=15), now)
    assert resume.startswith("p42-") and opt_in.startswith("n42-")
    assert tokens.read(tokens.PUSH_RESUME, resume, now).holds_for(visitor)
    assert not tokens.read(tokens.PUSH_RESUME, resume, now).holds_for("b" * 64)
    assert tokens.read(tokens.PUSH_OPT_IN, opt_in, now).holds_for(visitor)
    # Neither passes for the e-mail's resume link, nor for each other (shape, then signature of the kind).
    assert tokens.read(tokens.RESUME, resume, now) is None and tokens.read(tokens.PUSH_RESUME, opt_in, now) is None
    swapped = "p" + opt_in[1:]
    assert not tokens.read(tokens.PUSH_RESUME, swapped, now).holds_for(visitor)
    email_resume = tokens.resume_token(42, "ana@example.com", now)
    assert tokens.read(tokens.PUSH_RESUME, email_resume, now) is None
    assert tokens.read(tokens.PUSH_OPT_IN, opt_in, now + dt.timedelta(minutes=16)) is None  # short-lived
