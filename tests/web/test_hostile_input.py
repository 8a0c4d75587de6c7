"""What a request carries is bounded and cleaned before any view sees it: never a 500, never stored raw."""

from __future__ import annotations

import json

import requests

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandRole
from tests.conftest import log_in
from tests.factories import BrandFactory, MembershipFactory, UserFactory


def ops_client(client):
    ops = UserFactory(role=Role.OPS)
    return log_in(client, ops.email)


def post_json(client, path, text, csrf):
    return client.post(path, data=text, content_type="application/json", headers={"X-CSRFToken": csrf})


def test_it_strips_nul_and_control_characters_from_stored_text(client, session):
    csrf = ops_client(client)
    response = client.post("/api/v1/brands", json={"name": "Ca\x00f\x07é\x1b N\u0085oël\tX"},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 201
    brand = session.get(Brand, response.json["id"])
    assert brand.name == "Café Noël\tX"


def test_it_refuses_a_lone_surrogate_naming_the_field(client, session):
    csrf = ops_client(client)
    before = session.query(Brand).count()
    response = post_json(client, "/api/v1/brands", '{"name": "Caf\\ud800"}', csrf)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["name"]
    assert session.query(Brand).count() == before


def test_it_refuses_numbers_no_column_can_hold_naming_the_field(client, session):
    csrf = ops_client(client)
    for text, field in [('{"name": "A", "x": {"n": 9223372036854775808}}', "x.n"),
                        ('{"name": "A", "n": -9223372036854775809}', "n"),
                        ('{"name": "A", "n": NaN}', "body"),
                        ('{"name": "A", "n": 1e999}', "n")]:
        response = post_json(client, "/api/v1/brands", text, csrf)
        assert response.status_code == 422, text
        assert list(response.json["errors"]) == [field], text


def test_it_refuses_json_nested_deeper_than_anyone_sends(client, session):
    csrf = ops_client(client)
    for depth in (40, 100_000):
        response = post_json(client, "/api/v1/brands", '{"name": ' + "[" * depth + "]" * depth + "}", csrf)
        assert response.status_code == 422
        assert response.json["errors"]["name" if depth == 40 else "body"]


def test_malformed_json_is_a_400_naming_the_body(client, session):
    csrf = ops_client(client)
    response = post_json(client, "/api/v1/brands", '{"name": ', csrf)
    assert response.status_code == 400
    assert list(response.json["errors"]) == ["body"]
    response = post_json(client, "/api/v1/brands", b'{"name": "\xff"}', csrf)
    assert response.status_code == 400


def test_a_nested_schema_error_is_one_flat_field_name(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    csrf = log_in(client, session.get(User, membership.user_id).email)
    response = client.post(f"/api/v1/brands/{membership.brand_id}/rates",
                           json={"effective_from": "2199-01-01", "price_cents": 300,
                                 "bonus_rules": [{"kind": "rating_at_least"}, {"kind": "nonsense"}]},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "bonus_rules.1.kind" in errors
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages)
               for messages in errors.values())


def test_a_path_holding_a_control_character_is_not_found(client, session):
    brand = BrandFactory()
    assert client.get(f"/widget/{brand.widget_key}%00").status_code == 404
    assert client.get("/api/widget/%00abc").status_code == 404
    assert client.get(f"/api/widget/{brand.widget_key}/conversations/9223372036854775808").status_code == 404


def test_the_query_string_is_cleaned_and_bounded(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    log_in(client, session.get(User, membership.user_id).email)
    base = f"/brands/{membership.brand.slug}/conversations"
    assert client.get(base + "?topic=a%00b").status_code == 200
    too_far = client.get(base + "?page=99999999999999999999999")
    assert too_far.status_code == 422
    assert b"Use a page number from 1 to 10,000." in too_far.data
    for edge in ("0001-01-01", "9999-12-31"):
        response = client.get(base + f"?date_from={edge}&date_to={edge}")
        assert response.status_code in (200, 422), edge
        assert b"between the years" in response.data, edge


def test_a_time_zone_must_be_an_iana_name(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    csrf = log_in(client, session.get(User, membership.user_id).email)
    for zone in ("localtime", "posixrules", "Factory", "../etc/passwd", "Europe/Pari"):
        response = client.patch(f"/api/v1/brands/{membership.brand_id}", json={"timezone": zone},
                                headers={"X-CSRFToken": csrf})
        assert response.status_code == 422, zone
        assert list(response.json["errors"]) == ["timezone"]
    assert client.patch(f"/api/v1/brands/{membership.brand_id}", json={"timezone": "America/New_York"},
                        headers={"X-CSRFToken": csrf}).status_code == 200


def test_private_answers_are_not_cached_and_the_description_may_be(client, session):
    csrf = ops_client(client)
    response = client.get("/api/v1/brands")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers["Vary"]
    assert client.get("/").headers.get("Cache-Control") in ("no-store", None)
    assert client.post("/api/v1/brands", json={}, headers={"X-CSRFToken": csrf}).headers["Cache-Control"] == \
        "no-store"
    assert "Cache-Control" not in client.get("/api/openapi.json").headers


def test_a_request_larger_than_the_limit_is_a_413_problem(client, session, app):
    brand = BrandFactory()
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"topic": "x" * (limit + 10)})
    response = client.post(f"/api/widget/{brand.widget_key}/conversations", data=body,
                           content_type="application/json", headers={"X-Visitor-Token": "t" * 32})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["body"]


def test_the_running_server_names_no_versions_and_refuses_20_mb(demo_server):
    response = requests.get(demo_server.url + "/healthz", timeout=10)
    assert response.headers["Server"] == "marketplace"
    assert "Werkzeug" not in str(response.headers) and "Python" not in str(response.headers)
    big = requests.post(demo_server.url + "/api/widget/unknown/conversations", data=b"x" * (20 * 1024 * 1024),
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert big.status_code == 413
    assert big.json()["errors"] == {"body": [big.json()["detail"]]}


def test_the_query_strings_ids_pages_and_dates_are_read_in_one_place(app):
    from marketplace.errors import InvalidInput
    from marketplace.web import params

    def read(query, reader, name):
        with app.test_request_context("/" + query):
            try:
                return reader(name)
            except InvalidInput as error:
                return ("refused", error.field)

    assert read("?id=12", params.record_id, "id") == 12
    assert read("?id=", params.record_id, "id") is None
    for bad in ("0", "99999999999999999999", "%C2%B2", "%D9%A3", "1.5", "abc"):
        assert read(f"?id={bad}", params.record_id, "id") == ("refused", "id"), bad
    assert read("?page=3", params.page_number, "page") == 3
    assert read("?page=10001", params.page_number, "page") == ("refused", "page")
    assert read("?day=2026-03-31", params.day, "day").isoformat() == "2026-03-31"
    for edge in ("0001-01-01", "9999-12-31", "2026-02-30"):
        assert read(f"?day={edge}", params.day, "day") == ("refused", "day"), edge


def test_an_address_with_a_broken_host_is_never_followed_nor_a_500(client, session):
    user = UserFactory(role=Role.OPS)
    page = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    response = client.post("/login?next=//[x", data={"email": user.email, "password": "correct-horse-battery",
                                                     "csrf_token": csrf_token_from(page), "next": "//[x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    csrf = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    marked = client.post("/notifications/read-all", data={"csrf_token": csrf},
                         headers={"Referer": "http://[x/"})
    assert marked.status_code == 302
    assert marked.headers["Location"] == "/"


def test_a_conversation_search_takes_any_64_bit_expert_id(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    log_in(client, session.get(User, membership.user_id).email)
    found = client.get(f"/api/v1/brands/{membership.brand_id}/conversations?expert_id=9223372036854775807")
    assert found.status_code == 200
    too_large = client.get(f"/api/v1/brands/{membership.brand_id}/conversations?expert_id=9223372036854775808")
    assert too_large.status_code == 422
    assert list(too_large.json["errors"]) == ["expert_id"]
