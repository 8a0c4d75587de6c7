"""Outgoing e-mail: written to the log in development, sent over SMTP in production.

Outside production the last mails sent are also kept in memory (`SentMails`), for the page a developer reads
them on (web/dev_mail.py, `/dev/mail`), as a letter opener would.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from flask import Flask, current_app

from marketplace.database import after_commit

log = logging.getLogger("marketplace.mail")
KEPT_MAILS = 50  # the development page shows this many, newest first
LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")  # not the full stop after it


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message, alone or beside its HTML alternative."""
    part = message.get_body(("plain",))
    return part.get_content() if part is not None else ""


class LogMailer:
    """Write each message to the log, so a developer can follow links without a mail server."""

    def send(self, message: EmailMessage) -> None:
        body = text_of(message)
        links = LINK.findall(body)
        log.info("mail to %s: %s%s\n%s", message["To"], message["Subject"],
                 "".join(f"\n  link: {link}" for link in links), body)


class SmtpMailer:
    def __init__(self, host: str, port: int, username: str, password: str, starttls: bool):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls = starttls

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str
    sent_at: dt.datetime

    def parts(self) -> list[tuple[str, bool]]:
        """The body as (text, is_link) pieces, so a page can make each link clickable and escape the rest."""
        pieces, start = [], 0
        for match in LINK.finditer(self.body):
            pieces += [(self.body[start:match.start()], False), (match.group(0), True)]
            start = match.end()
        pieces.append((self.body[start:], False))
        return [piece for piece in pieces if piece[0]]


class SentMails:
    """The last mails this process sent, in memory: gone at restart, never more than `size`."""

    def __init__(self, size: int = KEPT_MAILS) -> None:
        self._mails: deque[SentMail] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, message: EmailMessage) -> None:
        mail = SentMail(str(message["To"]), str(message["Subject"]), text_of(message), dt.datetime.now(dt.UTC))
        with self._lock:
            self._mails.append(mail)

    def newest_first(self) -> list[SentMail]:
        with self._lock:
            return list(reversed(self._mails))


class KeepingMailer:
    """Send through another mailer, then keep a copy for the development page."""

    def __init__(self, mailer: Mailer, sent: SentMails) -> None:
        self.mailer, self.sent = mailer, sent

    def send(self, message: EmailMessage) -> None:
        self.mailer.send(message)
        self.sent.add(message)


def init_app(app: Flask) -> None:
    config = app.config
    if config["MAIL_BACKEND"] == "smtp":
        mailer: Mailer = SmtpMailer(
            config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"], config["SMTP_STARTTLS"],
        )
    else:
        mailer = LogMailer()
    if config["ENV_NAME"] != "production":  # kept for the letter opener (web.dev_mail), never in production
        sent = app.extensions["sent_mails"] = SentMails()
        mailer = KeepingMailer(mailer, sent)
    app.extensions["mailer"] = mailer


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message that goes out only if the current transaction commits."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    send_message_after_commit(message)


def send_message_after_commit(message: EmailMessage) -> None:
    """Queue a message written in full (its own From, Reply-To, HTML part) to go out only if the transaction commits."""
    to = str(message["To"])
    mailer: Mailer = current_app.extensions["mailer"]

    def deliver() -> None:
        try:
            mailer.send(message)
        except (OSError, smtplib.SMTPException):
            # The change is committed; a lost e-mail must not turn it into an error page.
            log.exception("could not send mail to %s", to)

    after_commit(deliver)
