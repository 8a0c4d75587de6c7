"""The OpenAPI document is generated from the code and says every answer each endpoint gives."""

import re

import pytest
from openapi_spec_validator import validate

from marketplace.database import ID_MAX

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/openapi.json").json


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_it_is_a_valid_openapi_3_document(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_it_lists_every_api_route_with_its_roles_and_errors(app, document):
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
             if hasattr(app.view_functions[rule.endpoint], "api_doc")}
    assert rules == set(document["paths"])
    assert {path for path in rules if path.startswith("/api/v1/")} == {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")}
    create = document["paths"]["/api/v1/brands"]["post"]
    assert create["x-roles"] == ["ops"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422"} == set(create["responses"])
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/BrandCreate"}
    assert "Problem" in document["components"]["schemas"]


def test_every_operation_documents_the_plumbings_answers(document):
    for method, path, operation in operations(document):
        responses = set(operation["responses"])
        public = operation.get("security") == []
        assert "400" in responses, (method, path)
        assert public or {"401", "403"} <= responses, (method, path)
        assert ("{" in path) == ("404" in responses), (method, path)
        has_body = "requestBody" in operation
        assert has_body == ({"413", "415"} <= responses), (method, path)
        has_query = any(parameter["in"] == "query" for parameter in operation["parameters"])
        assert not (has_body or has_query) or "422" in responses, (method, path)


def test_errors_hold_a_list_of_messages_per_field(document):
    errors = document["components"]["schemas"]["Problem"]["properties"]["errors"]
    assert errors["type"] == "object"
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_declared_conflicts_are_documented_and_others_are_not(document):
    assert "409" in document["paths"]["/api/v1/shifts/slots/{slot_id}/booking"]["post"]["responses"]
    assert "409" not in document["paths"]["/api/v1/brands/{brand_id}"]["get"]["responses"]


def test_path_ids_are_positive_64_bit_integers(document):
    parameters = document["paths"]["/api/v1/brands/{brand_id}/tokens/{token_id}"]["delete"]["parameters"]
    assert [p["name"] for p in parameters] == ["brand_id", "token_id"]
    for parameter in parameters:
        assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}
    month = document["paths"]["/api/v1/experts/me/statements/{year}-{month}.pdf"]["get"]["parameters"][1]
    assert month["schema"] == {"type": "integer", "minimum": 1, "maximum": 12}


def test_files_are_documented_with_their_media_type(document):
    csv = document["paths"]["/api/v1/exports/ledger.csv"]["get"]["responses"]["200"]
    assert set(csv["content"]) == {"text/csv"}
    pdf = document["paths"]["/api/v1/experts/me/statements/{year}-{month}.pdf"]["get"]["responses"]["200"]
    assert set(pdf["content"]) == {"application/pdf"}
    assert "204" in document["paths"]["/api/v1/offers/{offer_id}/decline"]["post"]["responses"]


def test_the_widgets_public_calls_need_no_login(document):
    public = [(method, path, operation) for method, path, operation in operations(document)
              if operation.get("security") == []]
    assert public, "the widget's visitor endpoints are documented as public"
    for method, path, operation in public:
        if path == "/api/v1/inbound-mail":  # a mail provider's route: its proof is the shared secret header
            assert "X-Inbound-Secret" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            assert "401" in operation["responses"]
            continue
        assert path.startswith("/api/widget/"), (method, path)
        assert not {"401", "403"} & set(operation["responses"]), (method, path)
    send = document["paths"]["/api/widget/{key}/conversations/{conversation_id}/messages"]["post"]
    assert "X-Visitor-Token" in [p["name"] for p in send["parameters"] if p["in"] == "header"]
    assert "429" in send["responses"]


def test_business_bounds_are_in_the_schemas(document):
    schemas = document["components"]["schemas"]
    slot = schemas["SlotCreate"]["properties"]
    assert (slot["headcount"]["minimum"], slot["headcount"]["maximum"]) == (1, 500)
    rate = schemas["RateCardCreate"]["properties"]
    assert rate["commission_bps"]["maximum"] == 10_000
    assert schemas["PresenceUpdate"]["properties"]["status"]["enum"] == ["available", "away", "offline"]
