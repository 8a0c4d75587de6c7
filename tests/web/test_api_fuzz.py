"""Schemathesis sends every API operation what its OpenAPI document allows, and what it does not, as each kind
of caller: every answer must be one the document names, in its media type and shape, and none a server error.

The callers are the demo's people (a brand admin logged in, the same brand's admin API token, an expert,
finance, ops) and the anonymous, on the demo's data with a few live things added (an offer waiting for the
expert, a left message, a draft batch); Stripe is the fake on loopback, so no operation is left out. Each
caller fuzzes the operations its role may call (the anonymous: all of them); tests/web/test_api_access.py
proves the refusals. Path ids are drawn half the time from the records that exist, so the fuzzer reaches
past "not found". Only the few requests that would take a caller out of the run are not sent (World.protected).

The run is seeded, so CI sends the same requests every time. `FUZZ_EXAMPLES=500` runs it longer by hand,
`FUZZ_SEED=<n>` draws other requests.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase as SchemathesisPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace import demo
from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.capacity import pool
from marketplace.database import db
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.extensions import limiter, socketio
from marketplace.faq import entries as faq_entries
from marketplace.payouts.batches import services as batches
from marketplace.payouts.rails import gateway as gateways
from marketplace.routing.door import services as conversations
from marketplace.routing.left_messages import services as left_messages
from marketplace.web.openapi import build_spec
from tests.conftest import BACKENDS, Outbox, committed_database_app, csrf_token_from, make_app
from tests.payouts.money import TIMEOUT
from tests.stripe_fake import DEFAULT_WEBHOOK_SECRET, FakeStripe

# Per operation, caller and backend, after each operation's explicit examples: 6 keeps the suite's run inside its
# 15 minutes now that the API has its messaging operations (about 930 cases); FUZZ_EXAMPLES=50 for a deeper search.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("FUZZ_SEED", "16"))
# Schemathesis's coverage phase (each parameter's boundaries, wrong types, missing and extra fields: some 36
# requests per operation and caller, 85 % of the run's) is sent on PostgreSQL, the stricter backend (its
# 32-bit columns and casts are where such values broke); SQLite takes the examples and the generated cases. Both
# backends are the same code above the database: the coverage phase on both doubled the suite's longest module.
COVERAGE_BACKENDS = {backend for backend in BACKENDS if backend == "postgresql"} or set(BACKENDS)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Schemathesis's test client keeps cookies for "localhost"; the app answers any host name.
HOST = "http://localhost"
ADMIN_EMAIL = "admin@maison-lumiere.example.com"
FINANCE_EMAIL = "finance@demo.example.com"
SECOND_FINANCE_EMAIL = "finance2@demo.example.com"
# The tables a path parameter names a row of.
ID_TABLES = {
    "attempt_id": ["quiz_attempts"], "batch_id": ["payout_batches"], "brand_id": ["brands"], "with_brand": ["brands"],
    "card_id": ["rate_cards"], "closure_id": ["brand_closures"], "conversation_id": ["conversations"],
    "earning_id": ["earnings"], "enrolment_id": ["enrolments"], "entry_id": ["faq_entries"],
    "expert_id": ["expert_profiles"],
    "invitation_id": ["brand_invitations", "capacity_invitations"], "item_id": ["payout_items"],
    "message_id": ["left_messages"], "notification_id": ["notifications"], "offer_id": ["offers"],
    "session_id": ["user_sessions"], "slot_id": ["shift_slots"], "token_id": ["api_tokens"], "user_id": ["users"],
}
KNOWN_IDS_PER_TABLE = 12  # the newest half of them (where the run's own records are), the rest spread over the table
# Non-id path parameters with values that exist.
KNOWN_VALUES = {"key": "SELECT widget_key FROM brands ORDER BY id"}


@dataclass(frozen=True)
class Caller:
    """What a caller sends with each request: its session cookie and CSRF token, or its API token."""

    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    app: Flask
    callers: dict[str, Caller]
    # Requests that would take a caller out of the run, by (method, path parameter): ending its login, revoking its
    # token, changing its role. They are not sent.
    protected: dict[tuple[str, str], set[int]]
    visitor_tokens: list[str]  # X-Visitor-Token of the seeded visitors
    backend: str


_world: World | None = None  # for the hooks below, which Schemathesis calls without fixtures


def _log_in(app: Flask, email: str) -> Caller:
    client = app.test_client()
    token = csrf_token_from(client.get("/login", base_url=HOST).get_data(as_text=True))
    response = client.post("/login", base_url=HOST, data={"email": email, "password": demo.DEMO_PASSWORD,
                                                          "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    page = client.get("/login", base_url=HOST, follow_redirects=True).get_data(as_text=True)
    return Caller({name: morsel.value for name, morsel in cookies.items()}, {"X-CSRFToken": csrf_token_from(page)})


def _seed() -> tuple[str, list[str]]:
    """The demo's data, and live things to act on; return the brand admin's API token and the visitors' tokens."""
    demo.seed()
    admin = accounts.find_user_by_email(ADMIN_EMAIL)
    lumiere = db.session.scalar(sa.select(Brand).where(Brand.slug == "maison-lumiere"))
    velo = db.session.scalar(sa.select(Brand).where(Brand.slug == "velo-rapide"))
    secret = brands.issue_api_token(admin, lumiere.id, "Fuzzing", BrandRole.ADMIN).secret
    emma = accounts.find_user_by_email(demo.EMMA_EMAIL)
    presence.go_online(emma)
    for question, lang in (("Livrez-vous en Belgique ?", "fr"), ("Do you ship to Canada?", "en")):  # proposals
        faq_entries.propose_entry(lumiere.id, experts.own_profile(emma).id, None, question, "Yes.", lang)
    visitors = [secrets.token_hex(20), secrets.token_hex(20)]
    conversations.start_conversation(lumiere.widget_key, visitors[0], topic="Delivery")  # offered to Emma
    waiting = conversations.start_conversation(velo.widget_key, visitors[1])  # nobody there: they leave a message
    left_messages.leave_message(velo.widget_key, visitors[1], waiting.id, "visitor@example.com", "Call me back.")
    batches.create_draft(accounts.find_user_by_email(SECOND_FINANCE_EMAIL), "EUR", 0)
    pool.scale_brand(lumiere.id)
    db.session.commit()
    return secret, visitors


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory) -> Iterator[World]:
    """The demo on a database of its own (really committed), Stripe faked on loopback, mail kept in memory."""
    global _world
    with (committed_database_app(request.param, tmp_path_factory.mktemp("api_fuzz"), "api_fuzz") as app,
          FakeStripe(balance={"eur": 10_000_000}) as stripe):
        gateways.set_gateway(app, gateways.StripeGateway("sk_test_fuzz", DEFAULT_WEBHOOK_SECRET, api_base=stripe.url,
                                                         timeout=TIMEOUT))
        app.extensions["mailer"] = Outbox()
        with app.app_context():
            secret, visitors = _seed()
        callers = {
            "brand": _log_in(app, ADMIN_EMAIL),
            "brand_token": Caller(headers={"Authorization": f"Bearer {secret}"}),
            "expert": _log_in(app, demo.EMMA_EMAIL),
            "finance": _log_in(app, FINANCE_EMAIL),
            "ops": _log_in(app, demo.OPS_EMAIL),
            "anonymous": Caller(),
        }
        with app.app_context():
            emails = [ADMIN_EMAIL, demo.EMMA_EMAIL, FINANCE_EMAIL, demo.OPS_EMAIL]
            people = {accounts.find_user_by_email(email).id for email in emails}
            protected = {
                ("DELETE", "session_id"): set(db.session.scalars(sa.text("SELECT id FROM user_sessions"))),
                ("DELETE", "token_id"): set(db.session.scalars(sa.text("SELECT id FROM api_tokens"))),
                ("PUT", "user_id"): people,
            }
        _world = World(app, callers, protected, visitors, request.param)
        try:
            yield _world
        finally:
            _world = None
            gateways.set_gateway(app, None)


def _document() -> dict:
    """The OpenAPI document, from an app made for it: tests are collected before any fixture makes one.

    create_app binds the shared `socketio` and `limiter` to its app; they are left as they were.
    """
    shared = (socketio, limiter)
    saved = [{key: copy.copy(value) if isinstance(value, list | dict) else value for key, value in vars(obj).items()}
             for obj in shared]
    try:
        return build_spec(make_app("sqlite://"))
    finally:
        for obj, state in zip(shared, saved, strict=True):
            vars(obj).clear()
            vars(obj).update(state)


schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict({"seed": SEED}))


def _spread_ids(table: str) -> str:
    """A query for the table's newest ids and a few spread over the older ones (`table` comes from ID_TABLES)."""
    half = KNOWN_IDS_PER_TABLE // 2
    return (f"SELECT id FROM (SELECT id FROM {table} ORDER BY id DESC LIMIT {half}) AS newest "  # noqa: S608
            f"UNION SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total "
            f"FROM {table}) AS numbered WHERE n % (total / {half} + 1) = 0")


def _known_values(name: str) -> list:
    """Values of a path parameter that name something existing (never a protected one)."""
    if _world is None or (name not in ID_TABLES and name not in KNOWN_VALUES):
        return []
    queries = [KNOWN_VALUES[name]] if name in KNOWN_VALUES else [_spread_ids(table) for table in ID_TABLES[name]]
    with _world.app.app_context():
        found = {value for query in queries for value in db.session.scalars(sa.text(query))}
        db.session.rollback()
    found.difference_update(*(ids for (_method, param), ids in _world.protected.items() if param == name))
    return sorted(found)


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict | None) -> st.SearchStrategy:
    """Half the time, name a record that exists instead of the drawn id."""
    if not path_parameters:
        return st.just(path_parameters)
    drawn = {}
    for name, value in path_parameters.items():
        known = _known_values(name)
        drawn[name] = st.one_of(st.just(value), st.sampled_from(known)) if known else st.just(value)
    return st.fixed_dictionaries(drawn)


@schema.hook
def flatmap_headers(context, headers: dict | None) -> st.SearchStrategy:
    """Half the time, speak as a visitor who has a conversation."""
    if _world is None or not headers or "X-Visitor-Token" not in headers:
        return st.just(headers)
    token = st.one_of(st.just(headers["X-Visitor-Token"]), st.sampled_from(_world.visitor_tokens))
    return st.fixed_dictionaries({**{name: st.just(value) for name, value in headers.items()},
                                  "X-Visitor-Token": token})


def _locks_out(case) -> bool:
    """Whether the case would take a fuzzing caller out of the run (World.protected)."""
    if _world is None:
        return False
    for (method, name), ids in _world.protected.items():
        value = str((case.path_parameters or {}).get(name, ""))
        if case.method.upper() == method and value.isdigit() and int(value) in ids:
            return True
    return False


def _covers(case, world: World, name: str) -> bool:
    """Whether this caller sends the coverage phase's cases of the operation: on COVERAGE_BACKENDS, every caller
    the operation lets in, but not the brand's API token (once authenticated it reaches the same code as the brand
    admin's login) and not the anonymous on an operation that names roles (turned away before the input is read,
    their coverage cases would all get the same 401)."""
    if world.backend not in COVERAGE_BACKENDS or name == "brand_token":
        return False
    return name != "anonymous" or not case.operation.definition.raw.get("x-roles")


def _call(case, world: World, name: str) -> None:
    if _locks_out(case) or (case.meta is not None and case.meta.phase.name == SchemathesisPhase.COVERAGE
                            and not _covers(case, world, name)):
        return
    caller = world.callers[name]
    response = case.call(app=world.app, base_url=HOST, headers=dict(caller.headers), cookies=dict(caller.cookies))
    case.validate_response(response, checks=CHECKS, headers=dict(caller.headers))


def _allowed(role: str):
    def allowed(ctx) -> bool:
        return role in ctx.operation.definition.raw.get("x-roles", [])

    allowed.__name__ = f"allowed_to_{role}"
    return allowed


FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


# In this order: a brand admin may remove the expert from the brand, ops may take back a role.
@schema.include(_allowed("expert")).parametrize()
@FUZZ
def test_an_expert_gets_only_documented_answers(case, world):
    _call(case, world, "expert")


@schema.include(_allowed("finance")).parametrize()
@FUZZ
def test_finance_gets_only_documented_answers(case, world):
    _call(case, world, "finance")


@schema.include(_allowed("brand")).parametrize()
@FUZZ
def test_a_brand_admin_gets_only_documented_answers(case, world):
    _call(case, world, "brand")


@schema.include(_allowed("brand")).parametrize()
@FUZZ
def test_a_brand_admin_token_gets_only_documented_answers(case, world):
    _call(case, world, "brand_token")


@schema.include(_allowed("ops")).parametrize()
@FUZZ
def test_ops_get_only_documented_answers(case, world):
    _call(case, world, "ops")


@schema.parametrize()
@FUZZ
def test_the_anonymous_get_only_documented_answers(case, world):
    _call(case, world, "anonymous")


def _client(world: World, name: str):
    """A test client sending what the caller sends."""
    client = world.app.test_client()
    for cookie, value in world.callers[name].cookies.items():
        client.set_cookie(cookie, value)
    client.environ_base.update({f"HTTP_{header.upper().replace('-', '_')}": value
                                for header, value in world.callers[name].headers.items()})
    return client


@pytest.mark.parametrize("name", ["brand", "brand_token", "expert", "finance", "ops"])
def test_the_callers_are_still_logged_in_after_the_run(world, name):
    """The fuzzing above ran as each caller, not as an anonymous one it was logged out into."""
    response = _client(world, name).get("/api/v1/me", base_url=HOST)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["role"] == ("brand" if name == "brand_token" else name)


# What fuzzing found, kept as plain tests.

def test_it_refuses_a_widget_origin_with_an_unbalanced_bracket(world):
    """urlsplit raises ValueError on "http://[abc": the program's origins answered 500."""
    with world.app.app_context():
        brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == "maison-lumiere"))
    response = _client(world, "brand").patch(f"/api/v1/brands/{brand_id}/program", base_url=HOST,
                                             json={"widget_origins": ["https://shop.example.com", "http://[abc"]})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.json["errors"]) == ["widget_origins"]

def test_it_filters_money_events_by_a_batch_id_past_32_bits(world):
    """PostgreSQL cast the batch id stored in the event to a 32-bit integer, and failed (500) on a larger one."""
    finance = _client(world, "finance")
    with world.app.app_context():
        batch_id = db.session.scalar(sa.text("SELECT min(id) FROM payout_batches"))
    found = finance.get(f"/api/v1/payout-audit-events?batch_id={batch_id}", base_url=HOST)
    assert found.status_code == 200
    assert found.json["events"] and {e["detail"]["batch_id"] for e in found.json["events"]} == {batch_id}
    for path in ("/api/v1/payout-audit-events", "/api/v1/payout-audit-events.csv"):
        response = finance.get(f"{path}?batch_id={2**63 - 1}", base_url=HOST)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    assert finance.get(f"/api/v1/payout-audit-events?batch_id={2**63 - 1}", base_url=HOST).json["events"] == []
