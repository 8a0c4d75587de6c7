"""An expert reports an abusive visitor once per chat; the brand sees the reports listed and marked on the chat."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.routing.console import transcripts
from marketplace.routing.models import VisitorReport
from marketplace.routing.ratings import services as ratings
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory
from tests.routing.conftest import admin_of
from tests.routing.ratings.conftest import expert_of, rated_chat, switch_to, user_of


def reports(session) -> list[VisitorReport]:
    return list(session.scalars(sa.select(VisitorReport)))


def test_a_report_is_listed_for_the_brand_and_marks_the_conversation(session, brand, expert, chat):
    report = ratings.report_visitor(expert.id, chat.id, "insults", "  Il m'a insulté trois fois.  ")
    assert (report.reason, report.comment) == ("insults", "Il m'a insulté trois fois.")
    admin = admin_of(session, brand)
    [listed] = ratings.brand_reports(admin, brand.id)
    assert (listed.id, listed.conversation_id, listed.expert_name) == (report.id, chat.id, expert.display_name)
    plain = rated_chat(session, brand, expert, rating=5)
    rows = {row.id: row for row in transcripts.search_conversations(admin, brand.id, {}).rows}
    assert rows[chat.id].reported is True and rows[plain.id].reported is False
    assert transcripts.transcript(admin, brand.id, chat.id).conversation.reported is True


def test_one_report_per_expert_and_chat(session, expert, chat):
    ratings.report_visitor(expert.id, chat.id, "threats", None)
    with pytest.raises(ratings.Conflict):
        ratings.report_visitor(expert.id, chat.id, "insults", "Encore")
    assert len(reports(session)) == 1


def test_a_chat_the_expert_never_took_cannot_be_reported(session, brand, expert, chat):
    other = expert_of(brand)
    waiting = ConversationFactory(brand=brand, status="waiting")
    session.commit()
    with pytest.raises(ratings.NotFound):
        ratings.report_visitor(other.id, chat.id, "spam", None)
    with pytest.raises(ratings.NotFound):
        ratings.report_visitor(expert.id, waiting.id, "spam", None)
    assert reports(session) == []


@pytest.mark.parametrize(("reason", "comment", "field"), [
    ("rude", None, "reason"), (None, None, "reason"), (3, None, "reason"), ("other", None, "comment"),
    ("other", "   ", "comment"), ("insults", "x" * 2001, "comment"), ("insults", ["x"], "comment"),
])
def test_a_report_needs_a_known_reason_and_a_comment_for_other(session, expert, chat, reason, comment, field):
    with pytest.raises(ratings.InvalidInput) as refused:
        ratings.report_visitor(expert.id, chat.id, reason, comment)
    assert refused.value.field == field and reports(session) == []


def test_the_expert_reports_through_the_api_and_the_brand_reads_it(client, session, brand, expert, chat):
    csrf = log_in(client, user_of(session, expert).email)
    url = f"/api/v1/experts/me/conversations/{chat.id}/visitor-report"
    bad = client.post(url, json={"reason": "rude"}, headers={"X-CSRFToken": csrf})
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["reason"]
    created = client.post(url, json={"reason": "harassment", "comment": "Messages répétés"},
                          headers={"X-CSRFToken": csrf})
    assert created.status_code == 201 and created.json["reason"] == "harassment"
    assert client.post(url, json={"reason": "spam"}, headers={"X-CSRFToken": csrf}).status_code == 409
    assert [r["id"] for r in client.get("/api/v1/experts/me/visitor-reports").json] == [created.json["id"]]
    admin_csrf = switch_to(client, csrf, admin_of(session, brand))
    listed = client.get(f"/api/v1/brands/{brand.id}/visitor-reports").json
    assert [(r["id"], r["comment"]) for r in listed] == [(created.json["id"], "Messages répétés")]
    found = client.get(f"/api/v1/brands/{brand.id}/conversations").json["conversations"]
    assert [row["reported"] for row in found if row["id"] == chat.id] == [True]
    other = BrandFactory(name="Autre")
    session.commit()
    switch_to(client, admin_csrf, admin_of(session, other))
    assert client.get(f"/api/v1/brands/{brand.id}/visitor-reports").status_code == 404
    assert client.get(f"/api/v1/brands/{other.id}/visitor-reports").json == []


@pytest.mark.parametrize("body", [{}, {"reason": None}, {"reason": "spam", "comment": 4},
                                  {"reason": "spam", "brand_id": 9}, {"reason": "other"}])
def test_hostile_report_bodies_are_refused_naming_the_field(client, session, expert, chat, body):
    csrf = log_in(client, user_of(session, expert).email)
    response = client.post(f"/api/v1/experts/me/conversations/{chat.id}/visitor-report", json=body,
                           headers={"X-CSRFToken": csrf})
    assert 400 <= response.status_code < 500 and response.json["errors"]
    assert reports(session) == []


def test_another_expert_gets_404_through_the_api(client, session, brand, chat):
    other = expert_of(brand)
    session.commit()
    csrf = log_in(client, user_of(session, other).email)
    response = client.post(f"/api/v1/experts/me/conversations/{chat.id}/visitor-report", json={"reason": "spam"},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 404 and reports(session) == []


def test_the_expert_reports_from_the_phone_page_and_the_console_shows_it(client, session, brand, expert, chat):
    csrf = log_in(client, user_of(session, expert).email)
    sent = client.post(f"/expert/ratings/{chat.id}/report",
                       data={"reason": "threats", "comment": "Menaces", "csrf_token": csrf})
    assert sent.status_code == 302 and len(reports(session)) == 1
    page = client.get("/expert/ratings").get_data(as_text=True)
    assert 'data-testid="report-sent"' in page
    refused = client.post(f"/expert/ratings/{chat.id}/report", data={"reason": "spam", "csrf_token": csrf},
                          follow_redirects=True)
    assert "You already reported this visitor for this chat." in refused.get_data(as_text=True)
    switch_to(client, csrf, admin_of(session, brand))
    console = client.get(f"/brands/{brand.slug}/ratings").get_data(as_text=True)
    assert 'data-testid="visitor-report"' in console and "Menaces" in console
    listing = client.get(f"/brands/{brand.slug}/conversations").get_data(as_text=True)
    assert 'data-testid="reported-mark"' in listing
    transcript = client.get(f"/brands/{brand.slug}/conversations/{chat.id}").get_data(as_text=True)
    assert 'data-testid="reported-mark"' in transcript


def test_the_export_helper_holds_the_experts_reports_only(session, brand, expert, chat):
    report = ratings.report_visitor(expert.id, chat.id, "spam", "Pub")
    other = expert_of(brand)
    session.commit()
    ratings.report_visitor(other.id, rated_chat(session, brand, other).id, "insults", None)
    assert [(r["id"], r["reason"], r["comment"]) for r in ratings.visitor_reports_for_export(expert.id)] == [
        (report.id, "spam", "Pub")]
