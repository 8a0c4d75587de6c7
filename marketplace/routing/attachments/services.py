"""Attachments from upload to download: checked, scanned, cleaned, stored, linked, and deleted with the transcript.

Who sends is checked by the caller (the visitor's token, the expert's chat) before a byte is read; here the
brand's size limit, the type from the content, the scan, the cleaning, the storage and the message that
carries the file. The file is stored before its row: a row never points at nothing, and a file whose message
could not be stored is deleted again. Downloads answer 404 to anyone the link was not given to, and links are
given only to the conversation's visitor, its expert and the brand's people (ops, finance, members).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Actor
from marketplace.database import db, end_read, unit_of_work
from marketplace.errors import InvalidInput, NotFound, TooLarge, Unavailable
from marketplace.experts import services as experts
from marketplace.routing.attachments import inspection, links
from marketplace.routing.attachments.scanning import Scanner
from marketplace.routing.attachments.storage import NotStored, storage
from marketplace.routing.chat.messages import Posted, post_message
from marketplace.routing.models import Attachment, AttachmentKind, Conversation, Sender

log = logging.getLogger("marketplace.routing.attachments")
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file as it came: the sender's name for it (shown, never trusted) and its bytes."""

    filename: str | None
    data: bytes


@dataclass(frozen=True)
class Sent:
    """Where a file is sent: a conversation the caller checked the sender may write in, and its brand."""

    id: int
    brand_id: int

    @classmethod
    def of(cls, conversation: Conversation) -> Sent:
        return cls(conversation.id, conversation.brand_id)


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str
    filename: str
    inline: bool  # an image shown in the page; a PDF is saved


def attachment_limit(brand_id: int) -> int:
    """The largest file the brand's chats take, in bytes (the read ends here: a file is read and scanned next,
    and on SQLite an open transaction holds the write lock)."""
    limit = brands.brands_by_id({brand_id})[brand_id].attachment_max_bytes
    end_read()
    return limit


def megabytes(size: int) -> str:
    return _l("%(count)s MB", count=format_decimal(round(size / MEGABYTE, 1)))


def too_large(limit: int) -> TooLarge:
    return TooLarge(_l("The file is larger than the %(limit)s limit.", limit=megabytes(limit)), "file")


def _scan(data: bytes) -> None:
    """Refuse what ClamAV does not call clean, when a daemon is configured."""
    config = current_app.config
    scanner = Scanner.from_settings(config["CLAMD_SOCKET"], config["CLAMD_ADDRESS"], config["CLAMD_TIMEOUT_SECONDS"])
    if scanner is None:
        return
    verdict = scanner.scan(data)
    if verdict.clean:
        return
    log.warning("attachment refused by the scanner (%s): %s", verdict.reason, verdict.detail)
    if verdict.reason == "infected":
        raise InvalidInput(_l("The virus scanner refused this file."), "file")
    if verdict.reason == "too_large":
        raise InvalidInput(_l("This file is too large for the virus scanner; send a smaller one."), "file")
    raise Unavailable(_l("The file could not be checked for viruses; try again in a moment."), "file")


def _store(conversation_id: int, cleaned: inspection.Cleaned) -> tuple[str, str | None]:
    name = secrets.token_urlsafe(24)
    key = f"{conversation_id}/{name}.{cleaned.extension}"
    thumbnail_key = f"{conversation_id}/{name}-thumb.jpg" if cleaned.thumbnail is not None else None
    files = storage()
    files.put(key, cleaned.data, cleaned.content_type)
    if thumbnail_key is not None:
        try:
            files.put(thumbnail_key, cleaned.thumbnail, "image/jpeg")
        except BaseException:
            files.delete(key)
            raise
    return key, thumbnail_key


def _delete_files(*keys: str | None) -> None:
    files = storage()
    for key in keys:
        if key is not None:
            files.delete(key)


def send_attachment(conversation: Sent, sender: Sender, upload: Upload, *, client_id: object,
                    caption: object = None, author_id: int | None = None, expert_id: int | None = None,
                    visitor_present: bool = True, kept_if_refused: bool = False) -> Posted:
    """Check, scan, clean and store a file, then post the message that carries it (a resend is not a duplicate).

    `conversation` is one the caller has checked the sender may write in (the visitor's token, the expert's
    chat, the visitor's e-mail reply); posting checks again that it still takes this sender's messages. No
    transaction is open while the file is scanned, cleaned and stored. `visitor_present` (False for a file attached
    to an e-mail reply) and `kept_if_refused` (a messaging app customer's file): as for post_message.
    """
    limit = attachment_limit(conversation.brand_id)
    if not upload.data:
        raise InvalidInput(_l("Choose a file to send."), "file")
    if len(upload.data) > limit:
        raise too_large(limit)
    inspection.detect(upload.data)  # the type from the content, before the scanner or a decoder reads it all
    _scan(upload.data)
    cleaned = inspection.clean(upload.data)
    key, thumbnail_key = _store(conversation.id, cleaned)
    row = {"kind": cleaned.kind, "content_type": cleaned.content_type, "size": len(cleaned.data),
           "filename": inspection.safe_filename(upload.filename, cleaned.extension), "width": cleaned.width,
           "height": cleaned.height, "storage_key": key, "thumbnail_key": thumbnail_key}
    try:
        posted = post_message(conversation.id, sender, client_id, caption, author_id=author_id,
                              expert_id=expert_id, visitor_present=visitor_present, attachment=row,
                              kept_if_refused=kept_if_refused)
    except BaseException:
        _delete_files(key, thumbnail_key)
        raise
    if not posted.created:  # a resend: the first copy is the one the message carries
        _delete_files(key, thumbnail_key)
    return posted


# Links and downloads.

def _attachment(attachment_id: int) -> tuple[Attachment, Conversation]:
    attachment = db.session.get(Attachment, attachment_id)
    conversation = db.session.get(Conversation, attachment.conversation_id) if attachment is not None else None
    if attachment is None or conversation is None:
        raise NotFound(_l("No such file."), "attachment_id")
    return attachment, conversation


def _may_see(actor: Actor, conversation: Conversation) -> bool:
    """The conversation's expert, or one of the brand's people (ops and finance included)."""
    if brands.brand_role(actor, conversation.brand_id) is not None:
        return True
    if actor.is_token or conversation.expert_id is None:
        return False
    profile = experts.get_profile(conversation.expert_id)
    return profile is not None and profile.user_id == actor.id


def _links(attachment: Attachment, user_id: int | None) -> dict[str, Any]:
    expires_at = links.expiry()

    def url(variant: str) -> str:
        return url_for("attachments.download", attachment_id=attachment.id, variant=variant,
                       t=links.sign(attachment.id, variant, user_id, expires_at))

    return {"url": url("file"), "thumbnail_url": url("thumbnail") if attachment.thumbnail_key else None,
            "expires_at": expires_at.isoformat()}


def visitor_links(conversation: Conversation, attachment_id: int) -> dict[str, Any]:
    """Links for the conversation's visitor (checked by the caller): the link is their proof."""
    attachment, owner = _attachment(attachment_id)
    if owner.id != conversation.id:
        raise NotFound(_l("No such file."), "attachment_id")
    found = _links(attachment, None)
    end_read()
    return found


def person_links(actor: Actor, attachment_id: int) -> dict[str, Any]:
    """Links for the conversation's expert or one of the brand's people; anyone else finds nothing."""
    attachment, conversation = _attachment(attachment_id)
    if not _may_see(actor, conversation):
        raise NotFound(_l("No such file."), "attachment_id")
    # A brand's API token has no person behind it: its links are bearer links like the visitor's.
    found = _links(attachment, None if actor.is_token else actor.id)
    end_read()
    return found


def open_download(attachment_id: int, variant: str, token: str | None, actor: Actor | None) -> Download:
    """The file a valid link gives, to whom it was given; 404 for everything else."""
    grant = links.read(token) if token else None
    if grant is None or grant.attachment_id != attachment_id or grant.variant != variant:
        raise NotFound(_l("This link is not valid, or has expired."))
    attachment, conversation = _attachment(attachment_id)
    if grant.user_id is not None and (actor is None or actor.is_token or actor.id != grant.user_id
                                      or not _may_see(actor, conversation)):
        raise NotFound(_l("This link is not valid, or has expired."))
    if variant == "thumbnail":
        key, content_type = attachment.thumbnail_key, "image/jpeg"
        filename, inline = attachment.filename.rsplit(".", 1)[0] + "-small.jpg", True
    else:
        key, content_type = attachment.storage_key, attachment.content_type
        filename, inline = attachment.filename, attachment.kind == AttachmentKind.IMAGE
    end_read()
    if key is None:
        raise NotFound(_l("No such file."))
    try:
        return Download(storage().get(key), content_type, filename, inline)
    except NotStored:
        raise NotFound(_l("No such file.")) from None


# Retention.

def delete_conversation_attachments(conversation_ids: list[int]) -> int:
    """Delete the attachments of conversations whose transcript goes (files first, then rows); how many went.

    Called by the transcript's retention with the conversations it purges. A crash between the files and the
    rows leaves rows whose files are gone (their links answer 404) and the next run finishes the work.
    """
    if not conversation_ids:
        return 0
    rows = db.session.execute(
        sa.select(Attachment.id, Attachment.storage_key, Attachment.thumbnail_key)
        .where(Attachment.conversation_id.in_(conversation_ids))).all()
    end_read()
    for row in rows:
        _delete_files(row.storage_key, row.thumbnail_key)
    with unit_of_work():
        db.session.execute(sa.delete(Attachment).where(Attachment.id.in_([row.id for row in rows])))
    return len(rows)
