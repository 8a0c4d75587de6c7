"""A brand's knowledge base as its people manage it: entries one by one, the whole base at once (a JSON list or a
CSV file), the bot's settings and a question tried, and the entries experts propose from answers they wrote.

The brand's admins change it, any of its people read it; another brand's people find nothing (404, DESIGN rule 14),
since every statement here names the brand. "The base" is the brand's entries in use (status active); proposals
waiting for the brand, and those it turned down, sit beside it and are untouched by a replace or an import.

Every change of an entry or of the synonyms moves the base's version in the same transaction (`_changed`), so each
process's index of the base (answering.py) is rebuilt at its next answer. What people send is checked first
(cleaning.py); a replace and an import are all or nothing: one bad row refuses the whole, naming the row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import db, end_read, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.experts import services as experts
from marketplace.faq import answering, cleaning
from marketplace.faq.cleaning import ASK_LENGTH, CSV_COLUMNS, MAX_ENTRIES, clean_entry, clean_rows, read_csv
from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings, default_settings
from marketplace.shared import spreadsheets
from marketplace.shared.paging import ResultPage

SEARCH_LENGTH = 200
PER_PAGE = 50


@dataclass(frozen=True)
class Report:
    """What a replace or an import did, entry by entry."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class BotSettings:
    bot_enabled: bool
    threshold: float
    resolve_after_minutes: int
    credit_cents: int  # in the brand's currency
    currency: str
    synonyms: str
    version: int


@dataclass(frozen=True)
class Proposal:
    entry: FaqEntry
    author_name: str | None  # the expert's display name (None once their profile is gone)


@dataclass(frozen=True)
class Export:
    filename: str
    content: str


# A brand's own entry: no expert wrote it, nobody decided on it (set, so that a detached entry has every field).
NO_ORIGIN = {"author_expert_id": None, "source_conversation_id": None, "decided_at": None, "decided_by_id": None}


# Reading and writing the base.

def _entry(brand_id: int, entry_id: int) -> FaqEntry:
    entry = db.session.scalar(sa.select(FaqEntry).where(FaqEntry.id == entry_id, FaqEntry.brand_id == brand_id))
    if entry is None:
        raise NotFound(_l("No such entry."))
    return entry


def _taken(brand_id: int, ref: str, but: int | None = None) -> None:
    query = sa.select(FaqEntry.id).where(FaqEntry.brand_id == brand_id, FaqEntry.ref == ref)
    if but is not None:
        query = query.where(FaqEntry.id != but)
    if db.session.scalar(query) is not None:
        raise Conflict(_l("Another entry of the brand has this ref."), "ref")


def _flushed() -> None:
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same ref written at the same moment
        raise Conflict(_l("Another entry of the brand has this ref."), "ref") from None


def _room(brand_id: int, adding: int, field: str) -> None:
    """Refuse, naming `field`, what would take the brand past MAX_ENTRIES entries (proposals included)."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(FaqEntry).where(FaqEntry.brand_id == brand_id))
    if count + adding > MAX_ENTRIES:
        raise InvalidInput(_l("A brand keeps at most %(count)d entries.", count=MAX_ENTRIES), field)


def _settings_row(brand_id: int) -> FaqSettings:
    """The brand's settings row, made with the defaults when it has none yet."""
    settings = db.session.get(FaqSettings, brand_id)
    if settings is None:
        try:
            with db.session.begin_nested():
                made = default_settings(brand_id)
                made.updated_at = utcnow()
                db.session.add(made)
        except sa.exc.IntegrityError:  # another change made it at the same moment
            pass
        settings = db.session.get(FaqSettings, brand_id)
    return settings


def _changed(brand_id: int) -> None:
    """Move the base's version in this transaction: every process rebuilds its index at its next answer."""
    settings = _settings_row(brand_id)
    settings.version = FaqSettings.version + 1  # in SQL: two changes at once move it twice
    db.session.flush()


def _audit(event: str, actor: Actor | None, brand_id: int, **detail: object) -> None:
    accounts.record_audit(event, actor_id=None if actor is None or actor.is_token else actor.id, brand_id=brand_id,
                          token_id=getattr(actor, "token_id", None), **detail)


def _detached(entries: list[FaqEntry]) -> list[FaqEntry]:
    """Out of the session, so the commit that ends the read does not expire them while the caller renders."""
    for entry in entries:
        db.session.expunge(entry)
    return entries


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def list_entries(actor: Actor, brand_id: int, *, status: object = None, language: object = None,
                 q: object = None, page: int = 1) -> ResultPage[FaqEntry]:
    """The brand's entries by ref, PER_PAGE a page: those in use unless `status` says, in `language`, holding `q` in
    their ref, question or answer (any of the brand's people)."""
    brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    try:
        wanted = EntryStatus(status or EntryStatus.ACTIVE)
    except ValueError:
        raise InvalidInput(_l("Choose active, proposed or rejected."), "status") from None
    query = sa.select(FaqEntry).where(FaqEntry.brand_id == brand_id, FaqEntry.status == wanted)
    if language:
        query = query.where(FaqEntry.lang == cleaning.lang(language, "lang"))
    if q:
        if not isinstance(q, str) or len(q) > SEARCH_LENGTH:
            raise InvalidInput(_l("Use at most %(count)d characters.", count=SEARCH_LENGTH), "q")
        pattern = _like(q.strip())
        query = query.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in
                                     (FaqEntry.ref, FaqEntry.question, FaqEntry.answer))))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = list(db.session.scalars(query.order_by(FaqEntry.ref).offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    result = ResultPage(_detached(rows), total, page, PER_PAGE)
    end_read()
    return result


def get_entry(actor: Actor, brand_id: int, entry_id: int) -> FaqEntry:
    brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    entry = _detached([_entry(brand_id, entry_id)])[0]
    end_read()
    return entry


@use_case
def create_entry(actor: Actor, brand_id: int, values: Mapping[str, object]) -> FaqEntry:
    """Add an entry to the base (the brand's admins); audited as `faq_entry_created`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    cleaned = clean_entry(values)
    _taken(brand_id, cleaned["ref"])
    _room(brand_id, 1, "ref")
    now = utcnow()
    entry = FaqEntry(brand_id=brand_id, status=EntryStatus.ACTIVE, created_at=now, updated_at=now, **NO_ORIGIN,
                     **cleaned)
    db.session.add(entry)
    _flushed()
    _changed(brand_id)
    _audit("faq_entry_created", actor, brand_id, entry_id=entry.id, ref=entry.ref)
    return _detached([entry])[0]


@use_case
def update_entry(actor: Actor, brand_id: int, entry_id: int, values: Mapping[str, object]) -> FaqEntry:
    """Change the fields given of one entry (the brand's admins); audited as `faq_entry_updated`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    entry = _entry(brand_id, entry_id)
    cleaned = clean_entry(values, partial=True)
    if "ref" in cleaned:
        _taken(brand_id, cleaned["ref"], entry.id)
    for field, value in cleaned.items():
        setattr(entry, field, value)
    entry.updated_at = utcnow()
    _flushed()
    _changed(brand_id)
    _audit("faq_entry_updated", actor, brand_id, entry_id=entry.id, ref=entry.ref, fields=sorted(cleaned))
    return _detached([entry])[0]


@use_case
def delete_entry(actor: Actor, brand_id: int, entry_id: int) -> None:
    """Forget one entry (the brand's admins), whatever its status; audited as `faq_entry_deleted`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    entry = _entry(brand_id, entry_id)
    _audit("faq_entry_deleted", actor, brand_id, entry_id=entry.id, ref=entry.ref)
    db.session.delete(entry)
    _changed(brand_id)


def _upsert(brand_id: int, rows: list[dict[str, object]], existing: dict[str, FaqEntry]) -> Report:
    """Each row written over the entry of its ref (put in use), or added; the counts of each."""
    created = updated = unchanged = 0
    now = utcnow()
    for values in rows:
        entry = existing.get(values["ref"])
        if entry is None:
            db.session.add(FaqEntry(brand_id=brand_id, status=EntryStatus.ACTIVE, created_at=now, updated_at=now,
                                    **NO_ORIGIN, **values))
            created += 1
        elif entry.status == EntryStatus.ACTIVE and all(getattr(entry, f) == v for f, v in values.items()):
            unchanged += 1
        else:
            for field, value in values.items():
                setattr(entry, field, value)
            entry.status, entry.updated_at = EntryStatus.ACTIVE, now
            updated += 1
    return Report(created, updated, unchanged)


def _entries_by_ref(brand_id: int) -> dict[str, FaqEntry]:
    return {entry.ref: entry for entry in db.session.scalars(sa.select(FaqEntry).where(FaqEntry.brand_id == brand_id))}


@use_case
def replace_base(actor: Actor, brand_id: int, rows: object) -> Report:
    """Make the base exactly `rows` ({ref, lang, question, answer, tags, active}), matched by ref: those listed
    are written (added, or changed and put in use), the entries in use whose ref is not listed are deleted;
    proposals stay. One bad row refuses it all, naming the row's index and field. The brand's admins; audited as
    `faq_base_replaced`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    if not isinstance(rows, list):
        raise InvalidInput(_l("Send a list of entries."), "body")
    cleaned = clean_rows((str(index), row) for index, row in enumerate(rows))
    existing = _entries_by_ref(brand_id)
    listed = {values["ref"] for values in cleaned}
    gone = [entry for ref, entry in existing.items() if ref not in listed and entry.status == EntryStatus.ACTIVE]
    for entry in gone:
        db.session.delete(entry)
    db.session.flush()  # the deleted rows leave before any of their refs could come back
    report = _upsert(brand_id, cleaned, existing)
    _room(brand_id, 0, "body")
    _flushed()
    _changed(brand_id)
    report = Report(report.created, report.updated, report.unchanged, len(gone))
    _audit("faq_base_replaced", actor, brand_id, **vars(report))
    return report


def may_change(actor: Actor, brand_id: int) -> None:
    """Refuse who may not change the brand's base (404 outside the brand, 403 for a viewer) before a file is read."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    end_read()


@use_case
def import_csv(actor: Actor, brand_id: int, content: bytes) -> Report:
    """Write a CSV file's entries over the base, matched by ref (added, or changed and put in use); nothing is
    deleted. One bad row refuses the file, naming its line and field. The brand's admins; audited as
    `faq_entries_imported`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    rows = read_csv(content)
    cleaned = clean_rows(rows, label=lambda line: str(_l("Line %(line)s: ", line=line)))
    existing = _entries_by_ref(brand_id)
    report = _upsert(brand_id, cleaned, existing)
    _room(brand_id, 0, "file")
    _flushed()
    _changed(brand_id)
    _audit("faq_entries_imported", actor, brand_id, **vars(report))
    return report


def export_csv(actor: Actor, brand_id: int) -> Export:
    """The base (its entries in use) as the CSV an import reads back (`;`, UTF-8 with a byte order mark)."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    entries = db.session.scalars(sa.select(FaqEntry).where(
        FaqEntry.brand_id == brand_id, FaqEntry.status == EntryStatus.ACTIVE).order_by(FaqEntry.ref))
    content = spreadsheets.text(CSV_COLUMNS, [(entry.ref, entry.lang, entry.question, entry.answer,
                                               ";".join(entry.tags or ())) for entry in entries])
    filename = f"faq-{brand.slug}-{utcnow().date().isoformat()}.csv"
    end_read()
    return Export(filename, content)


# The bot's settings.

def _view(settings: FaqSettings, currency: str) -> BotSettings:
    return BotSettings(settings.bot_enabled, settings.threshold, settings.resolve_after_minutes,
                       settings.credit_cents, currency, settings.synonyms or "", settings.version)


def get_settings(actor: Actor, brand_id: int) -> BotSettings:
    """How the brand's bot is set (the defaults when it never was); any of the brand's people."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    shown = _view(answering.settings_of(brand_id), brand.currency)
    end_read()
    return shown


@use_case
def update_settings(actor: Actor, brand_id: int, changes: Mapping[str, object]) -> BotSettings:
    """Change the settings given (the brand's admins): all of them or none, every refusal named; new synonyms move
    the base's version. Audited as `faq_settings_updated`."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    cleaned = cleaning.clean_settings(changes)
    settings = _settings_row(brand_id)
    synonyms_moved = "synonyms" in cleaned and cleaned["synonyms"] != (settings.synonyms or "")
    for field, value in cleaned.items():
        setattr(settings, field, value)
    settings.updated_at = utcnow()
    db.session.flush()
    if synonyms_moved:
        _changed(brand_id)
    _audit("faq_settings_updated", actor, brand_id, fields=sorted(cleaned))
    db.session.refresh(settings)
    return _view(settings, brand.currency)


# Trying the bot.

def try_question(actor: Actor, brand_id: int, text: object, language: object = None) -> answering.Answer:
    """What the brand's bot answers to `text` at the brand's threshold (any of the brand's people, bot on or off)."""
    brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(_l("Write a question."), "text")
    if len(text) > ASK_LENGTH:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=ASK_LENGTH), "text")
    return answering.answer(brand_id, text, None if language in (None, "") else cleaning.lang(language, "lang"))


# Entries experts propose from their answers, and the brand's decision.

def _free_ref(brand_id: int, wanted: str) -> str:
    ref, more = wanted, 1
    while db.session.scalar(sa.select(FaqEntry.id).where(FaqEntry.brand_id == brand_id, FaqEntry.ref == ref)):
        more += 1
        ref = f"{wanted}-{more}"
    return ref


@use_case
def propose_entry(brand_id: int, expert_id: int, conversation_id: int | None, question: object, answer: object,
                  lang: object) -> FaqEntry:
    """An expert proposes an entry from an answer they wrote in one of the brand's conversations: kept as a
    proposal (ref `proposal-<id>`) until the brand approves or rejects it. The caller (the expert's chat) has
    checked that the expert holds that conversation of this brand. Audited as `faq_entry_proposed`."""
    cleaned = clean_entry({"question": question, "answer": answer, "lang": lang},
                          fields=("lang", "question", "answer"))
    _room(brand_id, 1, "question")
    now = utcnow()
    entry = FaqEntry(brand_id=brand_id, ref=f"proposal-new-{uuid.uuid4().hex[:20]}", tags=[], active=True,
                     status=EntryStatus.PROPOSED, author_expert_id=expert_id, source_conversation_id=conversation_id,
                     created_at=now, updated_at=now, decided_at=None, decided_by_id=None, **cleaned)
    db.session.add(entry)
    db.session.flush()
    entry.ref = _free_ref(brand_id, f"proposal-{entry.id}")
    _flushed()
    _changed(brand_id)
    _audit("faq_entry_proposed", None, brand_id, entry_id=entry.id, expert_id=expert_id,
           conversation_id=conversation_id)
    return _detached([entry])[0]


def list_proposals(actor: Actor, brand_id: int) -> list[Proposal]:
    """The proposals waiting for the brand, oldest first, with their author's name (any of the brand's people)."""
    brands.get_brand(actor, brand_id, need=BrandRole.VIEWER)
    entries = list(db.session.scalars(sa.select(FaqEntry).where(
        FaqEntry.brand_id == brand_id, FaqEntry.status == EntryStatus.PROPOSED).order_by(FaqEntry.id)))
    authors = experts.profiles_by_id({entry.author_expert_id for entry in entries if entry.author_expert_id})
    names = {expert_id: profile.display_name for expert_id, profile in authors.items()}
    found = [Proposal(entry, names.get(entry.author_expert_id)) for entry in _detached(entries)]
    end_read()
    return found


def _decide(actor: Actor, brand_id: int, entry_id: int, status: EntryStatus) -> FaqEntry:
    """Move a proposal to `status`, once: of two decisions at once, the second finds it decided (409)."""
    entry = _entry(brand_id, entry_id)
    won = db.session.execute(sa.update(FaqEntry).where(
        FaqEntry.id == entry_id, FaqEntry.brand_id == brand_id, FaqEntry.status == EntryStatus.PROPOSED).values(
        status=status, decided_at=utcnow(), decided_by_id=None if actor.is_token else actor.id,
        updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not won:
        raise Conflict(_l("This proposal is decided already."), "status")
    db.session.refresh(entry)
    return entry


@use_case
def approve_proposal(actor: Actor, brand_id: int, entry_id: int, edits: Mapping[str, object] | None = None
                     ) -> FaqEntry:
    """Put a proposal in use, with the brand's edits of its ref, language, question, answer or tags (the brand's
    admins); audited as `faq_proposal_approved`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    cleaned = clean_entry(edits or {}, partial=True, fields=("ref", "lang", "question", "answer", "tags"))
    if "ref" in cleaned:
        _taken(brand_id, cleaned["ref"], entry_id)
    entry = _decide(actor, brand_id, entry_id, EntryStatus.ACTIVE)
    for field, value in cleaned.items():
        setattr(entry, field, value)
    entry.active = True
    _flushed()
    _changed(brand_id)
    _audit("faq_proposal_approved", actor, brand_id, entry_id=entry.id, ref=entry.ref, edited=sorted(cleaned))
    return _detached([entry])[0]


@use_case
def reject_proposal(actor: Actor, brand_id: int, entry_id: int) -> FaqEntry:
    """Turn a proposal down (the brand's admins); it stays, rejected. Audited as `faq_proposal_rejected`."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    entry = _decide(actor, brand_id, entry_id, EntryStatus.REJECTED)
    _changed(brand_id)
    _audit("faq_proposal_rejected", actor, brand_id, entry_id=entry.id, ref=entry.ref)
    return _detached([entry])[0]
