"""What the knowledge base's calls accept and answer: entries, the whole base, its CSV, the bot's settings, a
question tried, and the experts' proposals.

The services check every value (cleaning.py) and name the field they refuse (a row's as `3.question`); here only
their shapes, with the bounds they apply documented.
"""

from marshmallow import fields, validate

from marketplace.core.faq.matching import Reason
from marketplace.faq import cleaning, entries
from marketplace.faq.models import LANGUAGES, EntryStatus
from marketplace.web.schemas import Page, Schema

LANG = {"enum": list(LANGUAGES), "description": "The entry's language: fr or en."}
TEXT = {"minLength": 1, "maxLength": cleaning.TEXT_LENGTH, "description": "Plain text: markup is stripped."}


class EntryCreateSchema(Schema):
    ref = fields.String(required=True, metadata={
        "pattern": cleaning.REF.pattern, "description": "The brand's own key for the entry, unique in its base "
                                                       "(its CSV and its API match entries by it)."})
    lang = fields.String(required=True, metadata=LANG)
    question = fields.String(required=True, metadata={
        **TEXT, "description": "The question as visitors ask it; more ways of asking it, one per line, help the "
                               "bot recognise it."})
    answer = fields.String(required=True, metadata=TEXT)
    tags = fields.List(fields.String(metadata={"maxLength": cleaning.TAG_LENGTH}),
                       validate=validate.Length(max=cleaning.MAX_TAGS), metadata={
                           "description": "Short labels (no `;`); they count as words of the question."})
    active = fields.Boolean(metadata={"description": "Off: kept, but neither the bot nor the experts' suggestions "
                                                     "use it (on when not given)."})


class EntryChangeSchema(EntryCreateSchema):
    """The fields to change (used partial): the others stay."""


class EntryRowSchema(EntryCreateSchema):
    """One entry of the whole base sent at once (a list of them)."""


class EntrySchema(EntryCreateSchema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={
        "enum": [status.value for status in EntryStatus],
        "description": "active: in the base; proposed: an expert's proposal waiting for the brand; rejected."})
    author_expert_id = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "The expert whose answer it came from (their proposal)."})
    source_conversation_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When the brand approved or rejected the proposal it was."})


class EntryQuery(Schema):
    status = fields.String(validate=validate.OneOf([status.value for status in EntryStatus]), metadata={
        "description": "active (the base: the default), proposed or rejected."})
    lang = fields.String(validate=validate.OneOf(LANGUAGES))
    q = fields.String(validate=validate.Length(max=entries.SEARCH_LENGTH), metadata={
        "description": "Found in the ref, the question or the answer, ignoring case."})
    page = Page(metadata={"description": f"{entries.PER_PAGE} entries a page, by ref."})


class EntryPageSchema(Schema):
    entries = fields.List(fields.Nested(EntrySchema), dump_only=True, attribute="rows")
    total = fields.Integer(dump_only=True)
    page = fields.Integer(dump_only=True)
    per_page = fields.Integer(dump_only=True)
    pages = fields.Integer(dump_only=True)


class ReportSchema(Schema):
    created = fields.Integer(dump_only=True)
    updated = fields.Integer(dump_only=True, metadata={"description": "Entries whose ref was there, changed (and "
                                                                      "put in use when they were a proposal)."})
    unchanged = fields.Integer(dump_only=True)
    deleted = fields.Integer(dump_only=True, metadata={"description": "Entries in use whose ref the list left out "
                                                                      "(a replace; an import deletes none)."})


class CsvFormSchema(Schema):
    """A CSV file (multipart/form-data); a text/csv body is read the same way."""

    file = fields.Raw(required=True, metadata={
        "type": "string", "format": "binary", "description": "Columns ref, lang, question, answer, tags (separated "
                                                             "by `;`), UTF-8 with or without a byte order mark; "
                                                             "cells separated by `;` or `,`."})


class SettingsChangeSchema(Schema):
    bot_enabled = fields.Boolean(metadata={"description": "The bot answers visitors' first messages."})
    threshold = fields.Float(validate=validate.Range(0, 1), metadata={
        "description": "The least confidence at which the bot answers: of its answers "
                                                   "at confidence c, a share c is the right entry."})
    resolve_after_minutes = fields.Integer(strict=True, validate=validate.Range(*cleaning.RESOLVE_MINUTES), metadata={
        "description": "A visitor who asks nothing more this long after the bot's answer is counted resolved."})
    credit_cents = fields.Integer(strict=True, validate=validate.Range(*cleaning.CREDIT_CENTS), metadata={
        "description": "What an expert earns, in the brand's currency's minor units, each time an entry they "
                       "wrote resolves a conversation."})
    synonyms = fields.String(metadata={
        "maxLength": cleaning.SYNONYM_LINES * (cleaning.SYNONYM_LINE_LENGTH + 1),
        "description": f"One group of words that mean the same per line (\"livraison, expédition, envoi\"); at "
                       f"most {cleaning.SYNONYM_LINES} lines of {cleaning.SYNONYM_LINE_LENGTH} characters."})


class SettingsSchema(SettingsChangeSchema):
    currency = fields.String(dump_only=True, metadata={"description": "The brand's currency (credit_cents's)."})
    version = fields.Integer(dump_only=True, metadata={"description": "Moved by every change of the base or of "
                                                                      "the synonyms."})


class AskSchema(Schema):
    text = fields.String(required=True, metadata={"minLength": 1, "maxLength": cleaning.ASK_LENGTH,
                                                  "description": "A visitor's message."})
    lang = fields.String(allow_none=True, metadata={"enum": list(LANGUAGES), "description": "Answer from the "
                                                    "entries of this language only (any when not given)."})


class AnsweredEntrySchema(Schema):
    id = fields.Integer(dump_only=True)
    ref = fields.String(dump_only=True)
    answer = fields.String(dump_only=True)


class AnswerSchema(Schema):
    entry = fields.Nested(AnsweredEntrySchema, dump_only=True, allow_none=True, metadata={
        "description": "The entry the bot answers with; null: it hands over to a person."})
    confidence = fields.Float(dump_only=True, metadata={"minimum": 0, "maximum": 1})
    handover = fields.Boolean(dump_only=True)
    reason = fields.String(dump_only=True, metadata={"enum": [reason.value for reason in Reason]})


class ProposalSchema(EntrySchema):
    author_name = fields.String(dump_only=True, allow_none=True, metadata={"description": "The expert's display "
                                                                                          "name."})


class ProposalListSchema(Schema):
    proposals = fields.List(fields.Nested(ProposalSchema), dump_only=True)


class ApproveSchema(Schema):
    """The brand's edits of the proposal, all optional: what is not given stays as the expert wrote it."""

    ref = fields.String(metadata={"pattern": cleaning.REF.pattern})
    lang = fields.String(metadata=LANG)
    question = fields.String(metadata=TEXT)
    answer = fields.String(metadata=TEXT)
    tags = fields.List(fields.String(metadata={"maxLength": cleaning.TAG_LENGTH}),
                       validate=validate.Length(max=cleaning.MAX_TAGS))
