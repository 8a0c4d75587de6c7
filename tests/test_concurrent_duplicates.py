"""The same request sent many times at once makes one row, with real commits on SQLite and PostgreSQL: one live
conversation per visitor token, one pending invitation per address, one closure per day. The others get what a
second request sent afterwards gets (the same conversation, or 409 naming the field), never a 500.

SQLite's single writer already took such requests one at a time; on PostgreSQL a unique index decides.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from marketplace.accounts.models import AuditEvent, User
from marketplace.brands.models import BrandClosure, BrandInvitation, BrandRole
from marketplace.database import db, utcnow
from marketplace.routing.models import OPEN_STATUSES, BrandLoad, Conversation
from tests.conftest import BACKENDS, Outbox, committed_database_app, log_in
from tests.factories import BrandFactory, MembershipFactory
from tests.routing.conftest import visitor_token

REQUESTS = 8


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("duplicates"), "duplicates") as app:
        yield app


def at_once(clients: list[FlaskClient], send: Callable[[FlaskClient], TestResponse]) -> list[TestResponse]:
    """Send one request from each client in threads that start together; each request has its own app context
    and session. Return the responses."""
    barrier = threading.Barrier(len(clients))
    responses: list[TestResponse | BaseException | None] = [None] * len(clients)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = send(clients[index])
        except BaseException as error:  # noqa: BLE001 - reported below
            responses[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    assert all(isinstance(response, TestResponse) for response in responses), responses
    return responses


def logged_in_clients(app: Flask, user_id: int) -> tuple[list[FlaskClient], str]:
    """Clients that all carry one logged-in session of the user (as a browser's tabs do), and its CSRF token."""
    first = app.test_client()
    with app.app_context():
        email = db.session.get(User, user_id).email
    csrf = log_in(first, email)
    name, domain = app.config["SESSION_COOKIE_NAME"], app.config["SERVER_NAME"]
    session_cookie = first.get_cookie(name, domain=domain)
    assert session_cookie is not None
    clients = [first]
    for _ in range(REQUESTS - 1):
        client = app.test_client()
        client.set_cookie(name, session_cookie.value, domain=domain)
        clients.append(client)
    return clients, csrf


def brand_admin(app: Flask) -> tuple[int, int]:
    """A new brand and its admin (committed): their ids."""
    with app.app_context():
        membership = MembershipFactory(role=BrandRole.ADMIN)
        ids = membership.brand.id, membership.user_id
        db.session.commit()
    return ids


def audited(app: Flask, kind: str, brand_id: int) -> int:
    with app.app_context():
        return sum(1 for detail in db.session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.kind == kind))
                   if detail.get("brand_id") == brand_id)


def test_it_keeps_one_live_conversation_when_a_visitors_tabs_start_one_at_once(committed_app):
    with committed_app.app_context():
        brand = BrandFactory()
        brand_id, key = brand.id, brand.widget_key
        db.session.commit()
    token = visitor_token()

    responses = at_once([committed_app.test_client() for _ in range(REQUESTS)], lambda client: client.post(
        f"/api/widget/{key}/conversations", json={}, headers={"X-Visitor-Token": token}))

    assert [response.status_code for response in responses] == [201] * REQUESTS, [r.json for r in responses]
    assert len({response.json["id"] for response in responses}) == 1
    with committed_app.app_context():
        live = db.session.scalars(sa.select(Conversation.id).where(
            Conversation.brand_id == brand_id, Conversation.status.in_(OPEN_STATUSES))).all()
        assert live == [responses[0].json["id"]]
        assert db.session.scalar(sa.select(sa.func.count()).where(Conversation.brand_id == brand_id)) == 1
        assert db.session.get(BrandLoad, brand_id).open_conversations == 1


def test_it_sends_one_invitation_when_admins_invite_an_address_at_once(committed_app):
    brand_id, admin_id = brand_admin(committed_app)
    clients, csrf = logged_in_clients(committed_app, admin_id)
    previous = committed_app.extensions["mailer"]
    committed_app.extensions["mailer"] = outbox = Outbox()
    try:
        responses = at_once(clients, lambda client: client.post(
            f"/api/v1/brands/{brand_id}/invitations", json={"email": "Ana@Example.com", "role": "viewer"},
            headers={"X-CSRFToken": csrf}))
    finally:
        committed_app.extensions["mailer"] = previous

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (REQUESTS - 1), [r.json for r in responses]
    assert all("email" in response.json["errors"] for response in responses if response.status_code == 409)
    created = next(response.json["id"] for response in responses if response.status_code == 201)
    with committed_app.app_context():
        pending = db.session.scalars(sa.select(BrandInvitation.id).where(
            BrandInvitation.brand_id == brand_id, BrandInvitation.email == "ana@example.com",
            BrandInvitation.accepted_at.is_(None), BrandInvitation.revoked_at.is_(None))).all()
        assert pending == [created]
    assert len(outbox.to("ana@example.com")) == 1
    assert audited(committed_app, "brand_member_invited", brand_id) == 1


def test_it_closes_a_day_once_when_it_is_closed_many_times_at_once(committed_app):
    brand_id, admin_id = brand_admin(committed_app)
    clients, csrf = logged_in_clients(committed_app, admin_id)
    day = (utcnow() + dt.timedelta(days=10)).date().isoformat()  # ahead in any timezone

    responses = at_once(clients, lambda client: client.post(
        f"/api/v1/brands/{brand_id}/closures", json={"day": day, "reason": "Inventory"},
        headers={"X-CSRFToken": csrf}))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (REQUESTS - 1), [r.json for r in responses]
    assert all("day" in response.json["errors"] for response in responses if response.status_code == 409)
    with committed_app.app_context():
        days = db.session.scalars(sa.select(BrandClosure.day).where(BrandClosure.brand_id == brand_id)).all()
        assert [d.isoformat() for d in days] == [day]
    assert audited(committed_app, "brand_closure_added", brand_id) == 1
