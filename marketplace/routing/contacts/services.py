"""Contacts: a visitor who proves an address or a phone number to a brand becomes that brand's contact, and only
that brand's.

A proof is the resume link of a continuation e-mail, opened by whoever reads that mailbox (`address_proved` is what
the link calls), or a WhatsApp message, whose sender's number WhatsApp verified (`whatsapp_customer_wrote`). A
WhatsApp message carrying the code of the web widget's "Continue on WhatsApp" link (handover.py) proves both sides
at once: the web visitor and the WhatsApp customer become one contact. The same address or number with two brands
is two contacts that nothing ever links (DESIGN rule 14; a Chatwoot bug merged one address across accounts). Every
statement here names the brand, so a wrong brand id finds nothing.

Conversations point at their contact: the proved one, the visitor's other conversations with the brand (the
same browser token) that had none, and every later one that visitor starts (`contact_for_visitor`). The brand's
admins merge two of their contacts: the conversations move to the one kept, the other stays as a pointer to it.
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import ID_MAX, db, unit_of_work, use_case, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.routing.contacts import handover
from marketplace.routing.models import Contact, Conversation
from marketplace.routing.router.loads import insert_ignore

# A merged contact points at the one it went to; a chain longer than this is a fault, not data.
MOST_MERGES = 20
NAME_LENGTH = 120


def normalise_email(email: object, field: str = "email") -> str:
    """The address as contacts are keyed: the local part and the domain lower-cased, the domain in IDNA (ASCII)."""
    if not isinstance(email, str):
        raise InvalidInput(_l("Enter an e-mail address."), field)
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(str(error), field) from None
    return f"{valid.local_part.lower()}@{valid.ascii_domain.lower()}"


def normalise_phone(number: str | None) -> str | None:
    """A WhatsApp id (the sender's number, digits in international form) as E.164 ("+33612345678"); None when it
    cannot be a phone number."""
    digits = (number or "").strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        return None
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def address_proved(conversation_id: int, email: str) -> None:
    """The visitor of this conversation proved they read `email` (they opened the link sent there).

    When it is the address the conversation holds (compared normalised), the brand's contact for it is found or
    made, and the conversation and the visitor's other conversations with the brand that have no contact are
    linked to it. Otherwise nothing happens, silently: an address the visitor has since replaced, or an unknown
    conversation, proves nothing, and the link that called still opens the conversation. Idempotent, one
    transaction of its own; two proofs at once make one contact (the insert ignores a row already there).
    """
    try:
        normalised = normalise_email(email)
    except InvalidInput:
        return
    with unit_of_work():
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None or conversation.visitor_email is None or conversation.visitor_email_consent_at is None:
            return
        try:
            if normalise_email(conversation.visitor_email) != normalised:
                return
        except InvalidInput:
            return
        brand_id, token_hash = conversation.brand_id, conversation.visitor_token_hash
        now = utcnow()
        insert_ignore(Contact.__table__, brand_id=brand_id, email=conversation.visitor_email,
                      email_normalised=normalised, created_at=now, proved_at=now)
        contact_id = db.session.scalar(sa.select(Contact.id).where(
            Contact.brand_id == brand_id, Contact.email_normalised == normalised))
        contact_id = _kept(brand_id, contact_id)
        db.session.execute(sa.update(Contact).where(Contact.brand_id == brand_id, Contact.id == contact_id)
                           .values(proved_at=now).execution_options(synchronize_session=False))
        _link(brand_id, contact_id, conversation_id, token_hash)


def whatsapp_customer_wrote(brand_id: int, conversation_id: int, customer_key: str, wa_id: str,
                            profile_name: str | None, text: str | None) -> None:
    """A WhatsApp customer wrote in this conversation of the brand: their number is proved (WhatsApp verified it).

    The brand's contact with that number is found or made (named after their WhatsApp profile when it has no name),
    and the conversation, with the customer's others that have none, linked to it. When `text` carries a valid
    handover code of one of the brand's web conversations, the web visitor is that customer: their contact (from
    a proved address) and this one become one, the older kept (a system merge, audited), and the web conversation
    with the visitor's others that have no contact link to it. A code of another brand, forged or stale, links
    nothing. The caller calls this only when the conversation has no contact yet or the text may hold a code, so a
    linked customer's messages cost nothing here. Idempotent, one transaction of its own.
    """
    phone = normalise_phone(wa_id)
    if phone is None:
        return
    name = (profile_name or "").strip()[:NAME_LENGTH] or None
    with unit_of_work():
        now = utcnow()
        contact_id = _contact_for_phone(brand_id, phone, name, now)
        _link(brand_id, contact_id, conversation_id, customer_key)
        web = handover.web_conversation(brand_id, text)
        if web is None:
            return
        web_contact_id = _kept(brand_id, web.contact_id)
        if web_contact_id is not None and web_contact_id != contact_id:
            contact_id = _merge_proved(brand_id, contact_id, web_contact_id)
        _link(brand_id, contact_id, web.id, web.visitor_token_hash)


def _contact_for_phone(brand_id: int, phone: str, name: str | None, now: dt.datetime) -> int:
    """The brand's contact for this number (the one it was merged into, if it was), made if none; its proof is
    now. Two first messages at once make one contact (the insert ignores a row already there)."""
    insert_ignore(Contact.__table__, brand_id=brand_id, phone=phone, display_name=name, created_at=now, proved_at=now)
    contact_id = _kept(brand_id, db.session.scalar(sa.select(Contact.id).where(
        Contact.brand_id == brand_id, Contact.phone == phone)))
    assert contact_id is not None
    db.session.execute(sa.update(Contact).where(Contact.brand_id == brand_id, Contact.id == contact_id)
                       .values(proved_at=now, display_name=sa.func.coalesce(Contact.display_name, name))
                       .execution_options(synchronize_session=False))
    return contact_id


def _link(brand_id: int, contact_id: int, conversation_id: int, token_hash: str) -> None:
    """Link the conversation to the contact, with the same visitor's (or customer's) others that have none."""
    db.session.execute(
        sa.update(Conversation)
        .where(Conversation.brand_id == brand_id, sa.or_(
            Conversation.id == conversation_id,
            sa.and_(Conversation.visitor_token_hash == token_hash, Conversation.contact_id.is_(None))))
        .values(contact_id=contact_id).execution_options(synchronize_session=False))


def _merge_proved(brand_id: int, one_id: int, other_id: int) -> int:
    """Two contacts of the brand proved to be one person (a handover code): the younger merged into the older,
    audited as a system merge; the id of the one kept."""
    ages = dict(db.session.execute(sa.select(Contact.id, Contact.created_at).where(
        Contact.brand_id == brand_id, Contact.id.in_((one_id, other_id)))).tuples().all())
    keep_id, merge_id = sorted((one_id, other_id), key=lambda contact_id: (ages[contact_id], contact_id))
    kept, moved = _merge(brand_id, keep_id, merge_id)
    accounts.record_audit("contacts_merged", actor_id=None, brand_id=brand_id, contact_id=kept.id,
                          merged_contact_id=merge_id, conversations=moved, proof="whatsapp_handover")
    return kept.id


def _kept(brand_id: int, contact_id: int | None) -> int | None:
    """The contact a merged one went to (through merges of merges), within the brand; itself when not merged."""
    for _ in range(MOST_MERGES):
        if contact_id is None:
            return None
        merged_into = db.session.execute(sa.select(Contact.merged_into_id).where(
            Contact.brand_id == brand_id, Contact.id == contact_id)).one_or_none()
        if merged_into is None:
            return None  # not the brand's
        if merged_into[0] is None:
            return contact_id
        contact_id = merged_into[0]
    raise RuntimeError(f"contact {contact_id}: merges go round in a circle")


def contact_for_visitor(brand_id: int, token_hash: str) -> int | None:
    """The contact of the visitor's latest conversation with the brand that has one (None when none has).

    Part of the caller's transaction: the door links a conversation the visitor starts to it, so a visitor who
    comes back after the reopen window starts a new conversation of the same contact.
    """
    contact_id = db.session.scalar(
        sa.select(Conversation.contact_id)
        .where(Conversation.brand_id == brand_id, Conversation.visitor_token_hash == token_hash,
               Conversation.contact_id.is_not(None))
        .order_by(Conversation.id.desc()).limit(1))
    return _kept(brand_id, contact_id)


def _checked_id(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise InvalidInput(_l("Choose a contact from the list."), field)
    return value


def _locked_contact(brand_id: int, contact_id: int) -> Contact:
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.brand_id == brand_id, Contact.id == contact_id,
                                 Contact.merged_into_id.is_(None)).with_for_update())
    if contact is None:
        raise NotFound(_l("No such contact."))
    return contact


@use_case
def merge_contacts(actor: Actor, brand_id: int, keep_id: object, merge_id: object) -> Contact:
    """Merge two contacts of the brand (admins): `merge_id`'s conversations go to `keep_id`, which stays.

    The other is marked merged into the one kept (a later proof of its address finds the one kept). Another
    brand's contact, or one merged already, is not found; audited as `contacts_merged`.
    """
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    keep_id, merge_id = _checked_id(keep_id, "keep_id"), _checked_id(merge_id, "merge_id")
    if keep_id == merge_id:
        raise InvalidInput(_l("Choose two different contacts."), "merge_id")
    kept, moved = _merge(brand_id, keep_id, merge_id)
    accounts.record_audit("contacts_merged", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                          contact_id=kept.id, merged_contact_id=merge_id, conversations=moved,
                          token_id=getattr(actor, "token_id", None))  # no address: the audit log outlives contacts
    return kept


def _merge(brand_id: int, keep_id: int, merge_id: int) -> tuple[Contact, int]:
    """Merge one of the brand's contacts into another: its conversations (and the contacts merged into it) move,
    it is marked merged; the one kept takes its address or number when it had none. (kept, conversations moved).
    Part of the caller's transaction; NotFound for a contact not the brand's or merged already."""
    # Locked in the order of their ids, so two merges of the same pair at once take turns.
    locked = {contact_id: _locked_contact(brand_id, contact_id) for contact_id in sorted((keep_id, merge_id))}
    kept, merged = locked[keep_id], locked[merge_id]
    moved = db.session.execute(
        sa.update(Conversation).where(Conversation.brand_id == brand_id, Conversation.contact_id == merged.id)
        .values(contact_id=kept.id).execution_options(synchronize_session=False)).rowcount
    db.session.execute(
        sa.update(Contact).where(Contact.brand_id == brand_id, Contact.merged_into_id == merged.id)
        .values(merged_into_id=kept.id).execution_options(synchronize_session=False))
    merged.merged_into_id = kept.id
    if kept.display_name is None:
        kept.display_name = merged.display_name
    kept.proved_at = max(kept.proved_at, merged.proved_at)
    # The one kept shows both ways of reaching the person; each stays unique in the brand, so it moves.
    taken_email = kept.email_normalised is None and merged.email_normalised is not None
    taken_phone = kept.phone is None and merged.phone is not None
    email, email_normalised, phone = merged.email, merged.email_normalised, merged.phone
    if taken_email:
        merged.email = merged.email_normalised = None
    if taken_phone:
        merged.phone = None
    db.session.flush()
    if taken_email:
        kept.email, kept.email_normalised = email, email_normalised
    if taken_phone:
        kept.phone = phone
    return kept, moved


def forget_unused_contacts(brand_id: int) -> int:
    """Delete the brand's contacts that no conversation points at any more (after the brand's transcripts are
    purged), with those merged into them; how many. Part of the caller's transaction."""
    used = sa.select(Conversation.contact_id).where(Conversation.brand_id == brand_id,
                                                    Conversation.contact_id.is_not(None))
    unused = sa.select(Contact.id).where(Contact.brand_id == brand_id, Contact.merged_into_id.is_(None),
                                         Contact.id.not_in(used))
    ids = list(db.session.scalars(unused))
    if not ids:
        return 0
    db.session.execute(sa.delete(Contact).where(Contact.brand_id == brand_id, Contact.merged_into_id.in_(ids))
                       .execution_options(synchronize_session=False))
    return db.session.execute(sa.delete(Contact).where(Contact.brand_id == brand_id, Contact.id.in_(ids))
                              .execution_options(synchronize_session=False)).rowcount
