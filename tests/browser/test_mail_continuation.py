"""A visitor who gave an address and left gets the expert's reply by e-mail, comes back through its link on another
browser, and can answer by e-mail too (issue 18: reaching the visitor who left).

The demo server sends mail over SMTP to an aiosmtpd server on loopback that keeps what it receives; replies go to
`marketplace mail-in`, the built-in receiver, started on the demo's database as a self-hosting brand would.
"""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import (
    accept_the_offer,
    expert_online_on_chats,
    expert_says,
    serving_shop,
    visitor_says,
    visitor_starts_chat,
)
from tests.browser.test_expert_journey import new_page
from tests.conftest import PROJECT_ROOT, TEST_SECRET, free_port, running_demo

pytestmark = pytest.mark.browser

REPLY_DOMAIN = "reply.example.com"
VISITOR = "ana@example.com"
VISITOR_GRACE_SECONDS = 20  # the least the settings allow: the visitor's page is gone this long after it closes
MAIL_WAIT_SECONDS = 60


@dataclass
class Mailbox:
    """What the SMTP server on loopback received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def wait_for(self, address: str, count: int) -> list[EmailMessage]:
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while len(self.to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.to(address)


@dataclass(frozen=True)
class Setup:
    server: object
    mailbox: Mailbox
    mail_in: tuple[str, int]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Iterator[Setup]:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    folder = tmp_path_factory.mktemp("demo-mail")
    port = free_port()
    settings = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
                "SMTP_STARTTLS": "false", "MAIL_REPLY_DOMAIN": REPLY_DOMAIN, "CONTINUATION_DIGEST_SECONDS": "2",
                "VISITOR_GRACE_SECONDS": str(VISITOR_GRACE_SECONDS), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    try:
        with running_demo(folder, settings, port) as server, mail_in(folder, settings) as receiver:
            yield Setup(server, mailbox, receiver)
    finally:
        smtp.stop()


@pytest.fixture(scope="module")
def shop(setup, tmp_path_factory) -> Iterator[str]:
    with serving_shop(setup.server, tmp_path_factory.mktemp("shop-mail")) as address:
        yield address


class mail_in:  # noqa: N801 - used as a context manager, like a function
    """`marketplace mail-in` on the demo's database, on a free loopback port."""

    def __init__(self, folder: Path, settings: dict[str, str]) -> None:
        self.port = free_port()
        env = {**os.environ, **settings, "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "SECRET_KEY": TEST_SECRET,
               "MARKETPLACE_ENV": "development", "PYTHONUNBUFFERED": "1"}
        command = [str(Path(sys.executable).parent / "marketplace"), "mail-in", "--port", str(self.port)]
        self.log = folder / "mail-in.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,  # noqa: S603
                                            stderr=subprocess.STDOUT)

    def __enter__(self) -> tuple[str, int]:
        deadline = time.monotonic() + 30
        while "Receiving mail" not in self.log.read_text():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)
        return "127.0.0.1", self.port

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def resume_link(mail: EmailMessage) -> str:
    return re.search(r"http://\S+/resume/\S+", mail.get_body(("plain",)).get_content()).group(0)


def answer(mail: EmailMessage, to: str, text: str) -> EmailMessage:
    """The visitor's mail program answering `mail`: their text above the quoted original."""
    quoted = "\n".join(f"> {line}" for line in mail.get_body(("plain",)).get_content().splitlines())
    reply = EmailMessage()
    reply["From"] = f"Ana <{VISITOR}>"
    reply["To"] = to
    reply["Subject"] = f"Re: {mail['Subject']}"
    reply["In-Reply-To"] = mail["Message-ID"]
    reply.set_content(f"{text}\n\nOn Sun, 6 Dec 2026 at 12:00, {mail['From']} wrote:\n{quoted}\n")
    return reply


def test_the_visitor_who_left_gets_the_reply_by_email_and_comes_back_by_link_and_by_mail(
        browser: Browser, setup: Setup, shop: str):
    server, errors = setup.server, []
    expert = expert_online_on_chats(browser, server, errors)
    visitor, frame = visitor_starts_chat(browser, server, shop, errors)
    visitor_says(frame, "Can my lamp take a dimmer?")
    accept_the_offer(expert)
    frame.get_by_test_id("email-box").get_by_text("Get the answer by e-mail if you leave").click()
    frame.get_by_test_id("visitor-email").fill(VISITOR)
    frame.get_by_test_id("visitor-email-consent").check()
    frame.get_by_test_id("give-email").click()
    expect(frame.get_by_test_id("email-given")).to_be_visible()
    visitor.context.close()  # the visitor leaves mid-chat

    chat = expert.get_by_test_id("chat-item").first
    expect(chat).to_contain_text("Away — your replies will reach them", timeout=(VISITOR_GRACE_SECONDS + 30) * 1000)
    expert_says(expert, "Yes: any trailing-edge dimmer works.")
    expert_says(expert, "Take one rated for LED.")

    [mail] = setup.mailbox.wait_for(VISITOR, 1)
    text = mail.get_body(("plain",)).get_content()
    assert "trailing-edge dimmer" in text and "rated for LED" in text  # both replies, one e-mail
    assert mail["From"].addresses[0].display_name == "Maison Lumière"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("reply+") and reply_to.endswith(f"@{REPLY_DOMAIN}")

    # The visitor answers by e-mail: the answer lands in the conversation, the quoted e-mail left out.
    with smtplib.SMTP(*setup.mail_in, timeout=10) as smtp:
        smtp.send_message(answer(mail, reply_to, "Great, ordering one now."))
        local, _, domain = reply_to.partition("@")
        forged = f"{local[:-4]}{'aaaa' if not local.endswith('aaaa') else 'bbbb'}@{domain}"
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.send_message(answer(mail, forged, "A forged reply"))
        assert refused.value.smtp_code == 550
    # mail-in is another process, and the demo has no message queue between them (SOCKETIO_MESSAGE_QUEUE): the
    # expert's page shows what it stored once it asks again.
    expert.reload()
    expert.get_by_test_id("chat-item").first.click()
    messages = expert.get_by_test_id("chat-messages")
    expect(messages).to_contain_text("Great, ordering one now.")
    assert "A forged reply" not in messages.inner_text() and "> " not in messages.inner_text()

    # The link, opened in a fresh browser, shows the whole conversation and lets the visitor write.
    elsewhere = new_page(browser, server, DESKTOP, errors)
    elsewhere.goto(resume_link(mail))
    history = elsewhere.get_by_test_id("messages")
    for said in ("Can my lamp take a dimmer?", "trailing-edge dimmer", "rated for LED", "Great, ordering one now."):
        expect(history).to_contain_text(said)
    elsewhere.get_by_test_id("message-input").fill("Back on my laptop: which wattage?")
    elsewhere.get_by_test_id("send-message").click()
    expect(messages).to_contain_text("Back on my laptop: which wattage?")
    assert len(setup.mailbox.to(VISITOR)) == 1  # nothing more went while the visitor was back
    assert errors == []


def test_a_forged_resume_link_gets_a_friendly_page(browser: Browser, setup: Setup):
    errors: list[str] = []
    page = new_page(browser, setup.server, DESKTOP, errors)
    response = page.goto("/widget/pk_nope/resume/1-abc-" + "a" * 26)
    assert response.status == 404
    expect(page.get_by_test_id("resume-invalid")).to_contain_text("This link no longer works")
