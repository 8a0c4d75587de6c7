"""The OpenAPI document is generated from the code and describes every endpoint."""

from openapi_spec_validator import validate


def test_it_is_a_valid_openapi_3_document(client):
    document = client.get("/api/openapi.json").json
    validate(document)
    assert document["openapi"].startswith("3.")


def test_it_lists_every_api_route_with_its_roles_and_errors(app, client):
    document = client.get("/api/openapi.json").json
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    documented = {path.replace("{", "<int:").replace("}", ">") for path in document["paths"]}
    assert rules == documented
    create = document["paths"]["/api/v1/brands"]["post"]
    assert create["x-roles"] == ["ops"]
    assert {"201", "400", "401", "403", "422"} <= set(create["responses"])
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/BrandCreate"}
    assert "Problem" in document["components"]["schemas"]
