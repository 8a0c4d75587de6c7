"""Photos and PDFs attached to a visitor's e-mail reply go through the widget's pipeline, each as a message of the
visitor; any other file, or one too large or infected, is dropped and logged while the text still lands."""

from __future__ import annotations

import io
import logging

import pytest
import sqlalchemy as sa
from PIL import Image

from marketplace.database import db
from marketplace.routing.attachments.storage import storage
from marketplace.routing.chat import messages
from marketplace.routing.continuation import inbound
from marketplace.routing.models import Attachment, ConversationStatus, EndReason
from marketplace.routing.router import loads
from marketplace.routing.router.admission import end_conversation
from tests.routing.attachments.conftest import TEST_SIGNATURE, pdf_bytes, stored_keys
from tests.routing.attachments.test_inspection import GPS_INFO, phone_photo
from tests.routing.continuation.mails import reply, reply_address_of
from tests.routing.router.test_asynchronous import status_of

MAIL_LOG = "marketplace.mail.inbound"


def with_files(mail, *files: tuple[bytes, str, str]):
    """The mail with `files` attached, each (bytes, its name, the type the mail program claims)."""
    for data, name, content_type in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def heic_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 20, 220)).save(out, "HEIF", quality=90)
    return out.getvalue()


def shown(conversation_id: int) -> list[tuple[str, str, str | None]]:
    """The conversation's messages: who, the text, and the file's name when one is carried."""
    return [(message.sender.value, message.body, message.attachment.filename if message.attachment else None)
            for message in messages.messages_after(conversation_id, 0)]


def attachments_of(conversation_id: int) -> list[Attachment]:
    return list(db.session.scalars(sa.select(Attachment).where(Attachment.conversation_id == conversation_id)
                                   .order_by(Attachment.id)))


def test_photos_and_a_pdf_arrive_as_the_visitors_messages_after_the_text_cleaned_like_an_upload(
        app, session, away, attachment_storage):
    mail = with_files(reply(reply_address_of(away.id)), (phone_photo(), "IMG_0042.JPG", "image/jpeg"),
                      (heic_photo(), "IMG_0043.HEIC", "image/heic"), (pdf_bytes(), "facture.pdf", "application/pdf"))
    posted = inbound.receive(mail.as_bytes())
    assert posted.message.body == "Thanks, the fuse was it!"  # the text reads first, then the files
    assert shown(away.id)[1:] == [("visitor", "Thanks, the fuse was it!", None), ("visitor", "", "IMG_0042.jpg"),
                                  ("visitor", "", "IMG_0043.jpg"), ("visitor", "", "facture.pdf")]
    photo, heic, pdf = attachments_of(away.id)
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 40, 60)  # turned upright
    kept = Image.open(io.BytesIO(storage().get(photo.storage_key)))
    assert len(kept.getexif()) == 0 and not kept.getexif().get_ifd(GPS_INFO)  # no GPS, no metadata at all
    assert (heic.content_type, heic.width, heic.height) == ("image/jpeg", 64, 48)  # HEIC became a JPEG
    assert (pdf.kind.value, storage().get(pdf.storage_key)) == ("pdf", pdf_bytes())
    assert len(stored_keys(attachment_storage)) == 5  # two photos and their thumbnails, the PDF
    assert status_of(away.id) == ConversationStatus.ASYNCHRONOUS  # the visitor is still away from the page


def test_unsupported_too_large_and_infected_files_are_dropped_and_logged_and_the_rest_lands(
        app, session, brand, away, clamd, caplog):
    brand.attachment_max_bytes = 1_048_576
    session.commit()
    mail = with_files(reply(reply_address_of(away.id)),
                      (b"PK\x03\x04 a word document", "notes.docx", "application/octet-stream"),
                      (pdf_bytes(padding=1_100_000), "big.pdf", "application/pdf"),
                      (pdf_bytes(TEST_SIGNATURE), "invoice.pdf", "application/pdf"),
                      (pdf_bytes(), "receipt.pdf", "application/pdf"))
    with caplog.at_level(logging.INFO, logger=MAIL_LOG):
        inbound.receive(mail.as_bytes())
    assert shown(away.id)[1:] == [("visitor", "Thanks, the fuse was it!", None), ("visitor", "", "receipt.pdf")]
    dropped = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert len(dropped) == 3
    assert "notes.docx" in dropped[0] and "big.pdf" in dropped[1] and "invoice.pdf" in dropped[2]
    assert "1 MB" in dropped[1] and "virus scanner" in dropped[2]


def test_a_mail_delivered_twice_stores_its_files_once(app, session, away, attachment_storage):
    raw = with_files(reply(reply_address_of(away.id), message_id="<files-twice@example.com>"),
                     (phone_photo(), "lamp.jpg", "image/jpeg"), (pdf_bytes(), "facture.pdf", "application/pdf")
                     ).as_bytes()
    inbound.receive(raw)
    keys = stored_keys(attachment_storage)
    again = inbound.receive(raw)
    assert again.created is False
    assert len(attachments_of(away.id)) == 2 and len(shown(away.id)) == 4  # "Bonjour !", the text, two files
    assert stored_keys(attachment_storage) == keys  # the second copies were deleted again


def test_a_photo_without_text_continues_a_closed_chat_within_the_window(app, session, away, attachment_storage):
    address = reply_address_of(away.id)
    end_conversation(away.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=away.expert.id)
    mail = with_files(reply(address, "\n> Le voyant rouge ?\n"), (phone_photo(), "lamp.jpg", "image/jpeg"))
    posted = inbound.receive(mail.as_bytes())
    assert (posted.message.body, posted.message.attachment.filename) == ("", "lamp.jpg")
    assert status_of(away.id) == ConversationStatus.ASYNCHRONOUS
    assert loads.counters_match() == []


def test_a_mail_whose_only_file_is_refused_and_without_text_is_refused(app, session, away):
    mail = with_files(reply(reply_address_of(away.id), "\n> Le voyant rouge ?\n"),
                      (b"just some bytes", "notes.txt.exe", "application/octet-stream"))
    with pytest.raises(inbound.MailRefused):
        inbound.receive(mail.as_bytes())
    assert shown(away.id) == [("expert", "Bonjour !", None)]


def test_a_forwarded_mail_inside_the_reply_gives_none_of_its_files(app, session, away):
    inner = with_files(reply("someone@example.org", "Forwarded"), (pdf_bytes(), "theirs.pdf", "application/pdf"))
    mail = reply(reply_address_of(away.id))
    mail.add_attachment(inner)
    assert [upload.filename for upload in inbound.attached_files(mail)] == []
