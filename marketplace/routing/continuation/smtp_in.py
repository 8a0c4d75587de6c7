"""The built-in SMTP receiver for self-hosting (`marketplace mail-in`): the reply domain's MX points here.

Only mail for reply addresses at MAIL_REPLY_DOMAIN is accepted at RCPT (550 for any other address: this is not a
relay); each message is taken through inbound.py inside the app, answering 250 once stored, 550 when refused and 451
when it cannot be taken now (the sending server tries again), with no reason given (it goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from marketplace.routing.continuation import inbound

log = logging.getLogger("marketplace.mail.inbound")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
ACCEPTED = "250 OK"
REFUSED = "550 Message refused"
NOT_HERE = "550 No such mailbox here"
TRY_LATER = "451 Try again later"


class ReplyHandler:
    """aiosmtpd's handler: RCPT is checked against the reply domain, DATA goes to inbound.receive."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.domain = app.config["MAIL_REPLY_DOMAIN"]

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        local, _, domain = address.rpartition("@")
        if not self.domain or domain.lower() != self.domain or not local.lower().startswith("reply+"):
            return NOT_HERE
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        # The database work is blocking: in a worker thread, so the receiver keeps answering other connections.
        return await server.loop.run_in_executor(None, self.take, raw, list(envelope.rcpt_tos))

    def take(self, raw: bytes, recipients: list[str]) -> str:
        with self.app.app_context():
            try:
                inbound.receive(raw, recipients)
            except inbound.MailRefused as refused:
                log.info("mail refused: %s", refused.reason)
                return REFUSED
            except inbound.MailDeferred as deferred:
                log.info("mail deferred: %s", deferred.reason)
                return TRY_LATER
            except Exception:
                log.exception("mail not taken")
                return TRY_LATER  # the sending server keeps it and tries again
        return ACCEPTED


def controller(app: Flask, host: str, port: int, **options: Any) -> Controller:
    """A receiver for `app` on host:port (started with `.start()`, stopped with `.stop()`)."""
    return Controller(ReplyHandler(app), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES, **options)
