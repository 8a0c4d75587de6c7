"""Attachments go with their transcript: files and rows of the purged conversations, nobody else's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.routing.attachments.services import delete_conversation_attachments
from marketplace.routing.models import Attachment
from tests.routing.attachments.conftest import pdf_bytes, stored_keys
from tests.routing.attachments.helpers import active_chat, visitor_sends
from tests.routing.attachments.test_inspection import phone_photo


@pytest.mark.usefixtures("attachment_storage")
def test_purging_a_transcript_deletes_its_files_and_rows_and_keeps_the_others(client, session, brand,
                                                                             attachment_storage):
    purged, kept = active_chat(session, brand), active_chat(session, brand)
    visitor_sends(client, purged, phone_photo(), client_id="p-1")
    visitor_sends(client, purged, pdf_bytes(), name="a.pdf", client_id="p-2")
    visitor_sends(client, kept, pdf_bytes(), name="b.pdf", client_id="k-1")
    assert len(stored_keys(attachment_storage)) == 4  # the photo, its thumbnail and two PDFs

    assert delete_conversation_attachments([purged.conversation.id]) == 2

    rows = db.session.scalars(sa.select(Attachment)).all()
    assert [row.conversation_id for row in rows] == [kept.conversation.id]
    assert stored_keys(attachment_storage) == {rows[0].storage_key}
    assert delete_conversation_attachments([purged.conversation.id]) == 0  # a second run finds nothing to do
