"""Password reset by an e-mailed link, delivered through a real SMTP server on loopback."""

from __future__ import annotations

import re
import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from marketplace.accounts import services
from marketplace.accounts.models import AuditEvent, Role
from marketplace.mail import SmtpMailer
from tests.conftest import csrf_token_from, free_port
from tests.factories import PASSWORD, UserFactory


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int = 1, seconds: float = 5.0):
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.messages) >= count, "no mail arrived"
        return self.messages[count - 1]


@pytest.fixture
def smtp_inbox(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    previous = app.extensions["mailer"]
    app.extensions["mailer"] = SmtpMailer("127.0.0.1", controller.port, "", "", starttls=False)
    try:
        yield inbox
    finally:
        app.extensions["mailer"] = previous
        controller.stop()


def reset_link(message) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(r"http://\S+/password/reset/\S+", body).group(0)


def test_a_user_resets_their_password_through_the_mailed_link(client, session, smtp_inbox):
    user = UserFactory(role=Role.OPS)
    token = csrf_token_from(client.get("/password/forgot").get_data(as_text=True))
    response = client.post("/password/forgot", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 302
    message = smtp_inbox.wait_for()
    assert message["To"] == user.email
    path = reset_link(message).split("marketplace.localhost", 1)[1]

    page = client.get(path)
    token = csrf_token_from(page.get_data(as_text=True))
    new = "a-brand-new-secret"
    done = client.post(path, data={"password": new, "confirm": new, "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert services.authenticate(user.email, "a-brand-new-secret", ip=None) is not None
    assert services.authenticate(user.email, PASSWORD, ip=None) is None

    # The link works once.
    again = client.post(path, data={"password": "another-secret-1", "confirm": "another-secret-1", "csrf_token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/password/forgot")
    assert {"password_reset_requested", "password_reset"} <= {e.kind for e in session.query(AuditEvent)}


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, smtp_inbox):
    token = csrf_token_from(client.get("/password/forgot").get_data(as_text=True))
    response = client.post("/password/forgot", data={"email": "nobody@example.com", "csrf_token": token})
    assert response.status_code == 302
    time.sleep(0.2)
    assert smtp_inbox.messages == []


def test_a_tampered_link_is_refused(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/password/reset/not-a-token",
                           data={"password": "x" * 12, "confirm": "x" * 12, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/password/forgot")


def test_a_short_new_password_is_refused_naming_the_field(session):
    user = UserFactory(role=Role.OPS)
    from marketplace.errors import InvalidInput

    serializer_token = services._reset_serializer().dumps({"user": user.id, "fp": services._reset_fingerprint(user)})
    with pytest.raises(InvalidInput) as error:
        services.reset_password(serializer_token, "short", ip=None)
    assert error.value.field == "password"


def test_the_log_backend_writes_the_message_to_the_log(app, session, caplog):
    user = UserFactory(role=Role.OPS)
    with app.test_request_context(), caplog.at_level("INFO", logger="marketplace.mail"):
        services.request_password_reset(user.email, ip=None)
    assert any("/password/reset/" in record.getMessage() for record in caplog.records)
