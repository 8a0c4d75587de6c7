"""Outgoing e-mail: written to the log in development, sent over SMTP in production."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import Flask, current_app

from marketplace.database import after_commit

log = logging.getLogger("marketplace.mail")


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class LogMailer:
    """Write each message to the log, so a developer can follow links without a mail server."""

    def send(self, message: EmailMessage) -> None:
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())


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


def init_app(app: Flask) -> None:
    config = app.config
    if config["MAIL_BACKEND"] == "smtp":
        mailer: Mailer = SmtpMailer(
            config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"], config["SMTP_STARTTLS"],
        )
    else:
        mailer = LogMailer()
    app.extensions["mailer"] = mailer


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message that goes out only if the current transaction commits."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    mailer: Mailer = current_app.extensions["mailer"]

    def deliver() -> None:
        try:
            mailer.send(message)
        except (OSError, smtplib.SMTPException):
            # The change is committed; a lost e-mail must not turn it into an error page.
            log.exception("could not send mail to %s", to)

    after_commit(deliver)
