"""A brand's admins connect, list and remove its messaging accounts; nobody else sees them; no secret comes back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace import sealing
from marketplace.brands.models import BrandRole
from marketplace.routing.models import BrandChannel
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.conftest import admin_of

# Connecting a number asks Graph for its display number: the fake's, never Meta's (an unknown id there: none).
pytestmark = pytest.mark.usefixtures("graph_settings")

SECRETS = {"access_token": "EAAG-token-value-123", "app_secret": "0123456789abcdef0123456789abcdef",
           "verify_token": "my-verify-token"}
WHATSAPP = {"kind": "whatsapp", "phone_number_id": "106540352242922", **SECRETS}


def _connect(client, csrf, brand_id, body):
    return client.post(f"/api/v1/brands/{brand_id}/channels", json=body, headers={"X-CSRFToken": csrf})


def test_an_admin_connects_a_number_whose_secrets_are_sealed_and_never_shown(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _connect(client, csrf, brand.id, WHATSAPP)
    assert answer.status_code == 201, answer.get_json()
    shown = answer.get_json()
    assert (shown["kind"], shown["account_id"]) == ("whatsapp", "106540352242922")
    assert shown["webhook_url"].endswith("/webhooks/whatsapp")
    assert shown["last_inbound_at"] is None and shown["last_error"] is None
    listed = client.get(f"/api/v1/brands/{brand.id}/channels").get_json()["channels"]
    assert [channel["id"] for channel in listed] == [shown["id"]]
    again = client.get(f"/api/v1/brands/{brand.id}/channels")
    for text in (answer.get_data(as_text=True), again.get_data(as_text=True)):
        assert not any(secret in text for secret in SECRETS.values())
    row = session.get(BrandChannel, shown["id"])
    assert SECRETS["app_secret"] not in row.app_secret_sealed
    assert sealing.unseal(row.app_secret_sealed, "channel-secrets") == SECRETS["app_secret"]


@pytest.mark.parametrize(("body", "field", "status"), [
    ({**WHATSAPP, "kind": "telegram"}, "kind", 422),
    ({**WHATSAPP, "phone_number_id": "+33 6 12"}, "phone_number_id", 422),
    ({"kind": "messenger", "phone_number_id": "1065403522", **SECRETS}, "page_id", 422),
    ({**WHATSAPP, "app_secret": ""}, "app_secret", 422),
    ({**WHATSAPP, "verify_token": "with space"}, "verify_token", 422),
    ({key: value for key, value in WHATSAPP.items() if key != "access_token"}, "access_token", 422),
])
def test_bad_input_is_refused_naming_the_field(client, session, brand, body, field, status):
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _connect(client, csrf, brand.id, body)
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json" and field in answer.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(BrandChannel)) == 0


def test_an_account_connected_already_is_a_conflict_even_for_another_brand(app, client, session, brand):
    other = BrandFactory()
    session.commit()
    outsider = app.test_client()
    csrf = log_in(outsider, admin_of(session, other).email)
    assert _connect(outsider, csrf, other.id, WHATSAPP).status_code == 201
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _connect(client, csrf, brand.id, WHATSAPP)
    assert answer.status_code == 409 and "phone_number_id" in answer.get_json()["errors"]


def test_a_viewer_may_list_but_not_connect(client, session, brand):
    csrf = log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    assert _connect(client, csrf, brand.id, WHATSAPP).status_code == 403
    assert client.get(f"/api/v1/brands/{brand.id}/channels").status_code == 200


def test_another_brands_admin_can_neither_see_nor_delete_a_channel(app, client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    channel_id = _connect(client, csrf, brand.id, WHATSAPP).get_json()["id"]
    other = BrandFactory()
    session.commit()
    outsider = app.test_client()
    csrf = log_in(outsider, admin_of(session, other).email)
    assert outsider.get(f"/api/v1/brands/{brand.id}/channels").status_code == 404
    assert outsider.delete(f"/api/v1/brands/{brand.id}/channels/{channel_id}",
                           headers={"X-CSRFToken": csrf}).status_code == 404
    assert outsider.delete(f"/api/v1/brands/{other.id}/channels/{channel_id}",
                           headers={"X-CSRFToken": csrf}).status_code == 404
    assert outsider.get(f"/api/v1/brands/{other.id}/channels").get_json()["channels"] == []
    assert session.get(BrandChannel, channel_id) is not None


def test_an_admin_removes_a_channel_and_its_webhooks_are_refused_from_then_on(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    channel_id = _connect(client, csrf, brand.id, WHATSAPP).get_json()["id"]
    answer = client.delete(f"/api/v1/brands/{brand.id}/channels/{channel_id}", headers={"X-CSRFToken": csrf})
    assert answer.status_code == 204
    assert client.get(f"/api/v1/brands/{brand.id}/channels").get_json()["channels"] == []
    query = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": SECRETS["verify_token"]}
    assert client.get("/webhooks/whatsapp", query_string=query).status_code == 403


def test_the_channel_calls_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/brands/{brand_id}/channels"]) == {"get", "post"}
    assert "delete" in paths["/api/v1/brands/{brand_id}/channels/{channel_id}"]
    body = paths["/api/v1/brands/{brand_id}/channels"]["post"]["requestBody"]
    assert body["required"] is True
