"""An expert contests a rating once, in writing; the brand's admins keep or remove it with a written answer."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, User
from marketplace.brands import services as brand_services
from marketplace.brands.models import BrandRole
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.notifications.models import Notification
from marketplace.routing.models import ContestStatus, Conversation, RatingContest
from marketplace.routing.ratings import services as ratings
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.conftest import admin_of
from tests.routing.ratings.conftest import expert_of, rated_chat, switch_to, user_of


@pytest.fixture
def admin(session, brand) -> User:
    return admin_of(session, brand)


def contests(session) -> list[RatingContest]:
    return list(session.scalars(sa.select(RatingContest)))


def audited(session, kind: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))


def test_an_expert_contests_a_rating_once_and_the_brand_sees_it_pending(session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "  Le visiteur voulait un remboursement, hors sujet.  ")
    assert (contest.status, contest.rating, contest.reason) == ("pending", 1, "Le visiteur voulait un remboursement, "
                                                                              "hors sujet.")
    listed = ratings.brand_contests(admin, brand.id)
    assert [(c.id, c.expert_name, c.rating_comment) for c in listed] == [
        (contest.id, expert.display_name, "Nul, il ne savait rien")]
    with pytest.raises(Conflict):
        ratings.contest_rating(expert.id, chat.id, "Encore")
    assert len(contests(session)) == 1
    assert session.get(Conversation, chat.id).rating_removed_at is None  # pending: the rating still counts


def test_an_unrated_chat_cannot_be_contested(session, brand, expert):
    unrated = rated_chat(session, brand, expert, rating=None)
    with pytest.raises(Conflict) as refused:
        ratings.contest_rating(expert.id, unrated.id, "Pourquoi pas")
    assert refused.value.field == "conversation_id" and contests(session) == []


@pytest.mark.parametrize("reason", [None, "", "   ", 5, ["list"], "x" * 2001])
def test_a_contest_needs_a_written_reason_of_sensible_length(session, expert, chat, reason):
    with pytest.raises(InvalidInput) as refused:
        ratings.contest_rating(expert.id, chat.id, reason)
    assert refused.value.field == "reason" and contests(session) == []


def test_another_experts_chat_is_not_found(session, brand, expert, chat):
    other = expert_of(brand)
    session.commit()
    with pytest.raises(NotFound):
        ratings.contest_rating(other.id, chat.id, "Ce n'est pas juste")
    with pytest.raises(NotFound):
        ratings.contest_rating(expert.id, 2**62, "Ce n'est pas juste")
    assert contests(session) == []


def test_removing_a_rating_keeps_the_value_for_audit_and_tells_the_expert(session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "Insultes, pas une vraie note")
    decided = ratings.decide_contest(admin, brand.id, contest.id, "removed", "  Vous avez raison.  ")
    assert (decided.status, decided.answer) == ("removed", "Vous avez raison.")
    stored = session.get(Conversation, chat.id)
    session.refresh(stored)
    assert stored.rating == 1 and stored.rating_removed_at is not None and stored.counted_rating is None
    row = session.get(RatingContest, contest.id)
    assert row.decided_by_id == admin.id and row.decided_at is not None
    [event] = audited(session, "rating_contest_removed")
    assert event.actor_id == admin.id
    assert event.detail["contest_id"] == contest.id and event.detail["conversation_id"] == chat.id
    note = session.scalar(sa.select(Notification).where(Notification.user_id == expert.user_id,
                                                        Notification.kind == "rating_contest_removed"))
    assert note is not None and note.body == "Vous avez raison." and note.url == "/expert/ratings"
    [mine] = ratings.expert_contests(expert.id)
    assert (mine.status, mine.answer) == ("removed", "Vous avez raison.")


def test_keeping_a_rating_leaves_it_counted_and_is_audited(session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    ratings.decide_contest(admin, brand.id, contest.id, "kept", "Le visiteur avait raison.")
    stored = session.get(Conversation, chat.id)
    session.refresh(stored)
    assert stored.rating_removed_at is None and stored.counted_rating == 1
    assert len(audited(session, "rating_contest_kept")) == 1 and audited(session, "rating_contest_removed") == []
    with pytest.raises(Conflict):  # decided once
        ratings.decide_contest(admin, brand.id, contest.id, "removed", "Finalement non")
    session.refresh(stored)
    assert stored.rating_removed_at is None
    assert session.get(RatingContest, contest.id).status == ContestStatus.KEPT


@pytest.mark.parametrize(("decision", "answer", "field"), [
    ("pending", "Réponse", "decision"), ("maybe", "Réponse", "decision"), (None, "Réponse", "decision"),
    (1, "Réponse", "decision"), ("removed", "  ", "answer"), ("removed", None, "answer"),
    ("kept", "x" * 2001, "answer"),
])
def test_a_decision_is_keep_or_remove_with_a_written_answer(session, brand, expert, chat, admin, decision, answer,
                                                            field):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    with pytest.raises(InvalidInput) as refused:
        ratings.decide_contest(admin, brand.id, contest.id, decision, answer)
    assert refused.value.field == field
    assert session.get(RatingContest, contest.id).status == ContestStatus.PENDING
    assert session.get(Conversation, chat.id).rating_removed_at is None


def test_a_viewer_cannot_decide_and_another_brand_does_not_see_the_contest(session, brand, expert, chat):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    with pytest.raises(Forbidden):
        ratings.decide_contest(admin_of(session, brand, BrandRole.VIEWER), brand.id, contest.id, "removed", "Oui")
    other = BrandFactory(name="Autre")
    session.commit()
    stranger = admin_of(session, other)
    with pytest.raises(NotFound):
        ratings.decide_contest(stranger, brand.id, contest.id, "removed", "Oui")
    with pytest.raises(NotFound):  # its own brand id with this brand's contest
        ratings.decide_contest(stranger, other.id, contest.id, "removed", "Oui")
    assert ratings.brand_contests(stranger, other.id) == []
    assert session.get(RatingContest, contest.id).status == ContestStatus.PENDING


# The API.

def test_the_expert_contests_through_the_api_and_reads_the_answer(client, session, brand, expert, chat, admin):
    csrf = log_in(client, user_of(session, expert).email)
    url = f"/api/v1/experts/me/conversations/{chat.id}/rating-contest"
    created = client.post(url, json={"reason": "Hors sujet"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    assert created.json["status"] == "pending" and created.json["rating"] == 1
    again = client.post(url, json={"reason": "Encore"}, headers={"X-CSRFToken": csrf})
    assert again.status_code == 409
    ratings.decide_contest(admin, brand.id, created.json["id"], "removed", "Retirée.")
    listed = client.get("/api/v1/experts/me/rating-contests").json
    assert [(c["id"], c["status"], c["answer"]) for c in listed] == [(created.json["id"], "removed", "Retirée.")]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 12}, {"reason": None}, {"reason": "x" * 2001},
                                  {"reason": "ok", "status": "removed"}, ["reason"]])
def test_hostile_contest_bodies_are_refused_naming_the_field(client, session, expert, chat, body):
    csrf = log_in(client, user_of(session, expert).email)
    response = client.post(f"/api/v1/experts/me/conversations/{chat.id}/rating-contest", json=body,
                           headers={"X-CSRFToken": csrf})
    assert 400 <= response.status_code < 500 and response.json["errors"]
    assert contests(session) == []


def test_the_api_hides_other_experts_chats_and_refuses_unrated_ones(client, session, brand, expert, chat):
    other = expert_of(brand)
    session.commit()
    unrated = rated_chat(session, brand, expert, rating=None)
    csrf = log_in(client, user_of(session, other).email)
    foreign = client.post(f"/api/v1/experts/me/conversations/{chat.id}/rating-contest", json={"reason": "Moi"},
                          headers={"X-CSRFToken": csrf})
    assert foreign.status_code == 404
    csrf = switch_to(client, csrf, user_of(session, expert))
    none = client.post(f"/api/v1/experts/me/conversations/{unrated.id}/rating-contest", json={"reason": "Moi"},
                       headers={"X-CSRFToken": csrf})
    assert none.status_code == 409 and list(none.json["errors"]) == ["conversation_id"]
    assert contests(session) == []


def test_the_brand_lists_and_decides_through_the_api_with_a_token(client, session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    secret = brand_services.issue_api_token(admin, brand.id, "CRM", BrandRole.ADMIN).secret
    bearer = {"Authorization": f"Bearer {secret}"}
    listed = client.get(f"/api/v1/brands/{brand.id}/rating-contests?status=pending", headers=bearer)
    assert listed.status_code == 200 and [c["id"] for c in listed.json] == [contest.id]
    assert client.get(f"/api/v1/brands/{brand.id}/rating-contests?status=kept", headers=bearer).json == []
    assert client.get(f"/api/v1/brands/{brand.id}/rating-contests?status=nope", headers=bearer).status_code == 422
    url = f"/api/v1/brands/{brand.id}/rating-contests/{contest.id}/decision"
    bad = client.post(url, json={"decision": "removed", "answer": ""}, headers=bearer)
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["answer"]
    decided = client.post(url, json={"decision": "removed", "answer": "Retirée."}, headers=bearer)
    assert decided.status_code == 200 and decided.json["status"] == "removed"
    assert client.post(url, json={"decision": "kept", "answer": "Non"}, headers=bearer).status_code == 409
    [event] = audited(session, "rating_contest_removed")
    assert event.actor_id is None and event.detail["token_id"]


def test_another_brand_gets_404_through_the_api(client, session, brand, expert, chat):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    other = BrandFactory(name="Autre")
    session.commit()
    csrf = log_in(client, admin_of(session, other).email)
    assert client.get(f"/api/v1/brands/{brand.id}/rating-contests").status_code == 404
    decided = client.post(f"/api/v1/brands/{brand.id}/rating-contests/{contest.id}/decision",
                          json={"decision": "removed", "answer": "Oui"}, headers={"X-CSRFToken": csrf})
    crossed = client.post(f"/api/v1/brands/{other.id}/rating-contests/{contest.id}/decision",
                          json={"decision": "removed", "answer": "Oui"}, headers={"X-CSRFToken": csrf})
    assert (decided.status_code, crossed.status_code) == (404, 404)
    assert session.get(RatingContest, contest.id).status == ContestStatus.PENDING


# The pages.

def test_the_expert_contests_from_the_phone_page_and_reads_the_outcome(client, session, brand, expert, chat, admin):
    csrf = log_in(client, user_of(session, expert).email)
    page = client.get("/expert/ratings").get_data(as_text=True)
    assert f'action="/expert/ratings/{chat.id}/contest"' in page and "Nul, il ne savait rien" in page
    sent = client.post(f"/expert/ratings/{chat.id}/contest", data={"reason": "Hors sujet", "csrf_token": csrf})
    assert sent.status_code == 302
    [contest] = contests(session)
    page = client.get("/expert/ratings").get_data(as_text=True)
    assert 'data-status="pending"' in page and f'action="/expert/ratings/{chat.id}/contest"' not in page
    admin_csrf = switch_to(client, csrf, admin)
    console = client.get(f"/brands/{brand.slug}/ratings").get_data(as_text=True)
    assert "Hors sujet" in console and 'data-testid="decision-form"' in console
    decided = client.post(f"/brands/{brand.slug}/ratings/{contest.id}/decision",
                          data={"decision": "removed", "answer": "Note retirée, désolés.", "csrf_token": admin_csrf})
    assert decided.status_code == 302
    switch_to(client, admin_csrf, user_of(session, expert))
    page = client.get("/expert/ratings").get_data(as_text=True)
    assert 'data-status="removed"' in page and "Note retirée, désolés." in page
    assert 'data-testid="rating-removed"' in page


def test_a_viewer_reads_the_console_page_but_cannot_decide(client, session, brand, expert, chat):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    csrf = log_in(client, viewer.email)
    page = client.get(f"/brands/{brand.slug}/ratings").get_data(as_text=True)
    assert "Injuste" in page and 'data-testid="decision-form"' not in page
    refused = client.post(f"/brands/{brand.slug}/ratings/{contest.id}/decision",
                          data={"decision": "removed", "answer": "Oui", "csrf_token": csrf})
    assert refused.status_code == 403
    assert session.get(RatingContest, contest.id).status == ContestStatus.PENDING


def test_the_french_expert_page_speaks_french(client, session, expert, chat):
    log_in(client, user_of(session, expert).email)
    page = client.get("/expert/ratings", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Contester cette note" in page and "Signaler un visiteur abusif" in page


def test_the_export_helpers_hold_the_experts_contests_only(session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    ratings.decide_contest(admin, brand.id, contest.id, "kept", "Non")
    other = expert_of(brand)
    session.commit()
    ratings.contest_rating(other.id, rated_chat(session, brand, other).id, "Autre")
    [row] = ratings.rating_contests_for_export(expert.id)
    assert (row["id"], row["conversation_id"], row["status"], row["answer"], row["reason"]) == (
        contest.id, chat.id, "kept", "Non", "Injuste")
    assert isinstance(row["created_at"], str) and isinstance(row["decided_at"], str)


def test_the_brands_list_filters_by_a_known_status_only(session, brand, expert, chat, admin):
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    assert [c.id for c in ratings.brand_contests(admin, brand.id, "pending")] == [contest.id]
    assert ratings.brand_contests(admin, brand.id, "removed") == []
    with pytest.raises(InvalidInput) as refused:
        ratings.brand_contests(admin, brand.id, "nope")
    assert refused.value.field == "status"
