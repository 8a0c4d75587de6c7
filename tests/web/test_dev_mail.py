"""Mail a developer can see: each mail in the server's output, and the last ones on /dev/mail (never in production)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import requests

from marketplace.accounts.models import Role
from marketplace.mail import SentMails
from tests.conftest import TEST_SECRET, csrf_token_from
from tests.factories import UserFactory

RESET_LINK = re.compile(r"http://[^\s\"<>]+/password/reset/[\w.-]+")


def ask_for_a_reset(client, email: str) -> None:
    token = csrf_token_from(client.get("/password/forgot").get_data(as_text=True))
    assert client.post("/password/forgot", data={"email": email, "csrf_token": token}).status_code == 302


def mail(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    return message


def test_a_password_reset_mail_shows_on_the_page_with_its_link_clickable(client, session):
    user = UserFactory(role=Role.OPS)
    ask_for_a_reset(client, user.email)

    page = client.get("/dev/mail")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    first = html.index(f'data-testid="mail-to">{user.email}<')
    letter = html[first:html.index("</article>", first)]
    link = RESET_LINK.search(letter).group(0)
    assert link.startswith("http://marketplace.localhost/password/reset/")
    assert f'<a href="{link}">{link}</a>' in letter
    assert client.get(link.removeprefix("http://marketplace.localhost")).status_code == 200  # the link works


def test_the_newest_mail_comes_first(client, session):
    earlier, later = UserFactory(role=Role.OPS), UserFactory(role=Role.FINANCE)
    ask_for_a_reset(client, earlier.email)
    ask_for_a_reset(client, later.email)
    html = client.get("/dev/mail").get_data(as_text=True)
    assert html.index(later.email) < html.index(earlier.email)


def test_a_mail_body_shows_as_text_with_only_its_links_clickable(app, client):
    sent: SentMails = app.extensions["sent_mails"]
    sent.add(mail("eve@example.com", "<b>Hi</b>", "<script>alert(1)</script> See https://example.com/a?b=1&c=2."))
    html = client.get("/dev/mail").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Hi&lt;/b&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>.' in html


def test_only_the_last_mails_are_kept():
    sent = SentMails(size=3)
    for number in range(5):
        sent.add(mail(f"user{number}@example.com", f"Mail {number}", "Hello"))
    assert [m.subject for m in sent.newest_first()] == ["Mail 4", "Mail 3", "Mail 2"]


def test_the_mail_page_does_not_exist_in_production(tmp_path):
    """A production app, built in a process of its own: /dev/mail is not found and no mail is kept."""
    script = (
        "from marketplace import create_app\n"
        "app = create_app({'SERVER_NAME': 'marketplace.localhost'})\n"
        "print(app.test_client().get('/dev/mail').status_code, 'sent_mails' in app.extensions)\n"
    )
    env = {**os.environ, "MARKETPLACE_ENV": "production", "SECRET_KEY": TEST_SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}", "SMTP_HOST": "mail.invalid"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404", "False"]


def server_log(tmp_path_factory, demo_server) -> Path:
    """The demo server's output file (tests/conftest.py `demo_server` writes it in a `demo*` folder)."""
    for path in tmp_path_factory.getbasetemp().glob("demo*/server.log"):
        if demo_server.url in path.read_text():
            return path
    raise AssertionError("the demo server's output file was not found")


def test_serving_writes_each_mail_to_its_output_and_lists_it_on_the_page(demo_server, tmp_path_factory):
    assert f"{demo_server.url}/dev/mail" in demo_server.output  # the start-up message says where mails are
    email = demo_server.logins["finance (second approver)"]
    http = requests.Session()
    token = csrf_token_from(http.get(f"{demo_server.url}/password/forgot", timeout=10).text)
    answer = http.post(f"{demo_server.url}/password/forgot", data={"email": email, "csrf_token": token}, timeout=10)
    assert answer.status_code == 200, answer.text[:300]

    log = server_log(tmp_path_factory, demo_server)
    deadline, written = time.monotonic() + 10, None
    while written is None and time.monotonic() < deadline:
        written = re.search(rf"mail to {re.escape(email)}: (.+)\n  link: ({RESET_LINK.pattern})", log.read_text())
        time.sleep(0.1)
    assert written, f"no reset mail in the server's output:\n{log.read_text()[-3000:]}"
    subject, link = written.groups()
    assert link.startswith(f"{demo_server.url}/password/reset/")

    page = requests.get(f"{demo_server.url}/dev/mail", timeout=10).text
    assert f'<a href="{link}">{link}</a>' in page
    assert subject in page and email in page


def test_the_mail_page_answers_only_this_machine(client, session):
    user = UserFactory(role=Role.OPS)
    ask_for_a_reset(client, user.email)
    assert client.get("/dev/mail", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/dev/mail", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
