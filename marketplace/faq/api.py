"""JSON calls for a brand's knowledge base: its entries one by one and all at once, its CSV, the bot's settings, a
question tried against it, and the experts' proposals.

Any of the brand's people (and ops, finance) read; its admins (and ops) write; another brand's people get 404.
"""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import Role
from marketplace.errors import InvalidInput, UnsupportedType
from marketplace.faq import cleaning, entries
from marketplace.faq.schemas import (
    AnswerSchema,
    ApproveSchema,
    AskSchema,
    CsvFormSchema,
    EntryChangeSchema,
    EntryCreateSchema,
    EntryPageSchema,
    EntryQuery,
    EntryRowSchema,
    EntrySchema,
    ProposalListSchema,
    ReportSchema,
    SettingsChangeSchema,
    SettingsSchema,
)
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("faq_api", __name__)
READERS = [Role.OPS, Role.BRAND, Role.FINANCE]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
TAGS = ["faq"]
BASE = "/brands/<int:brand_id>/faq"
ENTRY = EntrySchema()
MULTIPART_SLACK = 64 * 1024  # the form's boundaries around the file


@blueprint.get(f"{BASE}/entries")
@endpoint(f"The brand's knowledge base by ref, {entries.PER_PAGE} a page: its entries in use, or its proposals "
          "(status), in a language, holding a text", roles=READERS, query=EntryQuery(), response=EntryPageSchema(),
          tags=TAGS)
def list_entries(actor, brand_id: int, query):
    return entries.list_entries(actor, brand_id, status=query.get("status"), language=query.get("lang"),
                                q=query.get("q"), page=query["page"])


@blueprint.post(f"{BASE}/entries")
@endpoint("Add an entry to the base (admins)", roles=BRAND_PEOPLE, body=EntryCreateSchema(), response=ENTRY,
          status=201, tags=TAGS, errors=[409])
def create_entry(actor, brand_id: int, body):
    return entries.create_entry(actor, brand_id, body)


@blueprint.put(f"{BASE}/entries")
@endpoint("Replace the whole base with a list of entries matched by ref (admins): those listed are added or "
          "changed, those in use not listed are deleted, proposals stay; one bad row refuses all, naming it "
          "(`3.question`)", roles=BRAND_PEOPLE, body=EntryRowSchema(many=True), response=ReportSchema(), tags=TAGS,
          errors=[409], max_bytes=cleaning.CSV_MAX_BYTES)
def replace_entries(actor, brand_id: int, body):
    return entries.replace_base(actor, brand_id, body)


@blueprint.get(f"{BASE}/entries/<int:entry_id>")
@endpoint("One entry of the brand's, whatever its status", roles=READERS, response=ENTRY, tags=TAGS)
def get_entry(actor, brand_id: int, entry_id: int):
    return entries.get_entry(actor, brand_id, entry_id)


@blueprint.patch(f"{BASE}/entries/<int:entry_id>")
@endpoint("Change an entry's fields given (admins)", roles=BRAND_PEOPLE, body=EntryChangeSchema(partial=True),
          response=ENTRY, tags=TAGS, errors=[409])
def update_entry(actor, brand_id: int, entry_id: int, body):
    return entries.update_entry(actor, brand_id, entry_id, body)


@blueprint.delete(f"{BASE}/entries/<int:entry_id>")
@endpoint("Delete an entry (admins)", roles=BRAND_PEOPLE, tags=TAGS)
def delete_entry(actor, brand_id: int, entry_id: int):
    entries.delete_entry(actor, brand_id, entry_id)


@blueprint.get(f"{BASE}/entries.csv")
@endpoint("The base as CSV: ref, lang, question, answer, tags (`;` between cells and between tags, UTF-8 with a "
          "byte order mark), as the import reads it back", roles=READERS, tags=TAGS)
def export_entries(actor, brand_id: int):
    export = entries.export_csv(actor, brand_id)
    return downloads.attachment(export.content, export.filename, "text/csv")


def _uploaded() -> bytes:
    """The CSV sent: a multipart form's `file`, or the whole body as text/csv."""
    if request.mimetype == "multipart/form-data":
        file = request.files.get("file")
        if file is None:
            raise InvalidInput(_l("Choose a CSV file."), "file")
        try:
            return file.read(cleaning.CSV_MAX_BYTES + 1)
        finally:
            file.close()
    if request.mimetype in ("text/csv", "text/plain"):
        return request.get_data(cache=False)
    raise UnsupportedType(_l("Send the file as multipart/form-data, or as a text/csv body."), "file")


@blueprint.post(f"{BASE}/entries.csv")
@endpoint("Import a CSV file over the base (admins): each row's ref added or changed, nothing deleted; one bad row "
          "refuses the file, naming its line (`4.lang`)", roles=BRAND_PEOPLE, form=CsvFormSchema(),
          max_bytes=cleaning.CSV_MAX_BYTES + MULTIPART_SLACK, response=ReportSchema(), tags=TAGS, errors=[409])
def import_entries(actor, brand_id: int):
    entries.may_change(actor, brand_id)  # a viewer is refused as such, whatever they send
    return entries.import_csv(actor, brand_id, _uploaded())


@blueprint.get(f"{BASE}/settings")
@endpoint("How the brand's FAQ bot is set", roles=READERS, response=SettingsSchema(), tags=TAGS)
def get_settings(actor, brand_id: int):
    return entries.get_settings(actor, brand_id)


@blueprint.patch(f"{BASE}/settings")
@endpoint("Change the bot's settings given (admins)", roles=BRAND_PEOPLE, body=SettingsChangeSchema(partial=True),
          response=SettingsSchema(), tags=TAGS)
def update_settings(actor, brand_id: int, body):
    return entries.update_settings(actor, brand_id, body)


@blueprint.post(f"{BASE}/answer")
@endpoint("What the brand's bot answers to a message, at the brand's threshold (whether the bot is on or not)",
          roles=READERS, body=AskSchema(), response=AnswerSchema(), tags=TAGS)
def answer(actor, brand_id: int, body):
    return entries.try_question(actor, brand_id, body["text"], body.get("lang")).as_json()


@blueprint.get(f"{BASE}/proposals")
@endpoint("The entries experts proposed from their answers, waiting for the brand, oldest first", roles=READERS,
          response=ProposalListSchema(), tags=TAGS)
def list_proposals(actor, brand_id: int):
    return {"proposals": [{**vars(proposal.entry), "author_name": proposal.author_name}
                          for proposal in entries.list_proposals(actor, brand_id)]}


@blueprint.post(f"{BASE}/proposals/<int:entry_id>/approve")
@endpoint("Put a proposal in the base (admins), with the brand's edits if any", roles=BRAND_PEOPLE,
          body=ApproveSchema(), response=ENTRY, tags=TAGS, errors=[409])
def approve_proposal(actor, brand_id: int, entry_id: int, body):
    return entries.approve_proposal(actor, brand_id, entry_id, body)


@blueprint.post(f"{BASE}/proposals/<int:entry_id>/reject")
@endpoint("Turn a proposal down (admins)", roles=BRAND_PEOPLE, response=ENTRY, tags=TAGS, errors=[409])
def reject_proposal(actor, brand_id: int, entry_id: int):
    return entries.reject_proposal(actor, brand_id, entry_id)
