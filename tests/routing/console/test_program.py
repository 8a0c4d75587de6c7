"""Brand admins set the chat program through the API; the router applies a changed cap to the next arrival."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.brands.models import BrandRole
from marketplace.routing.models import ConversationStatus, EndReason
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.routing.conftest import admin_of, arrive


def test_an_admin_changes_origins_topics_and_caps(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    response = client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf}, json={
        "widget_origins": ["https://www.lumiere.example", "http://127.0.0.1:*"], "topics": ["Delivery"],
        "max_concurrent": 0, "opening_hours": {"mon": [["09:00", "18:00"]]}})
    assert response.status_code == 200, response.json
    assert response.json["widget_origins"] == ["https://www.lumiere.example", "http://127.0.0.1:*"]
    assert response.json["max_concurrent"] == 0
    refused = arrive(brand)
    assert (refused.status, refused.end_reason) in {(ConversationStatus.CAPPED, EndReason.MAX_CONCURRENT),
                                                    (ConversationStatus.CAPPED, EndReason.CLOSED_HOURS)}


def test_a_lowered_cap_applies_to_the_next_arrival(client, session, brand):
    first = arrive(brand)
    assert first.status == ConversationStatus.WAITING
    csrf = log_in(client, admin_of(session, brand).email)
    client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf}, json={"max_concurrent": 1})
    assert arrive(brand).end_reason == EndReason.MAX_CONCURRENT


def test_bad_settings_name_their_field(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    for body, field in [({"widget_origins": ["not a url"]}, "widget_origins"),
                        ({"expert_concurrency": 0}, "expert_concurrency"),
                        ({"opening_hours": {"someday": []}}, "opening_hours"),
                        ({"opening_hours": {"mon": [["18:00", "09:00"]]}}, "opening_hours"),
                        ({"offer_timeout_seconds": "30"}, "offer_timeout_seconds")]:
        response = client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf}, json=body)
        assert response.status_code == 422, body
        assert field in response.json["errors"], response.json


def test_a_viewer_reads_but_cannot_change(client, session, brand):
    csrf = log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    assert client.get(f"/api/v1/brands/{brand.id}/program").json["widget_key"] == brand.widget_key
    response = client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf},
                            json={"max_concurrent": 3})
    assert response.status_code == 403


def test_canned_answers_are_replaced_in_order(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    response = client.put(f"/api/v1/brands/{brand.id}/canned-answers", headers={"X-CSRFToken": csrf}, json={
        "answers": [{"title": "Hello", "body": "Bonjour !"}, {"title": "Bye", "body": "Merci !"}]})
    assert [a["title"] for a in response.json] == ["Hello", "Bye"]
    response = client.put(f"/api/v1/brands/{brand.id}/canned-answers", headers={"X-CSRFToken": csrf},
                          json={"answers": [{"title": "Only", "body": "One"}]})
    assert [a["title"] for a in response.json] == ["Only"]


def test_another_brands_member_finds_nothing(client, session, brand):
    outsider = UserFactory(role=Role.BRAND)
    session.commit()
    log_in(client, outsider.email)
    for path in (f"/api/v1/brands/{brand.id}/program", f"/api/v1/brands/{brand.id}/conversations/live",
                 f"/api/v1/brands/{brand.id}/left-messages"):
        assert client.get(path).status_code == 404, path


def test_an_admin_sets_the_largest_attachment_within_bounds(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    assert client.get(f"/api/v1/brands/{brand.id}/program").json["attachment_max_bytes"] == 10_485_760
    saved = client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf},
                         json={"attachment_max_bytes": 2_097_152})
    assert saved.status_code == 200 and saved.json["attachment_max_bytes"] == 2_097_152
    assert client.get(f"/api/widget/{brand.widget_key}").json["attachment_max_bytes"] == 2_097_152
    for refused in (1_048_575, 26_214_401, None, "10485760"):
        response = client.patch(f"/api/v1/brands/{brand.id}/program", headers={"X-CSRFToken": csrf},
                                json={"attachment_max_bytes": refused})
        assert response.status_code == 422, refused
        assert list(response.json["errors"]) == ["attachment_max_bytes"]
