"""Contacts: a visitor who proves an address to a brand becomes that brand's contact, and only that brand's.

A proof is the resume link of a continuation e-mail, opened by whoever reads that mailbox: `address_proved` is
what the link calls. The same address with two brands is two contacts that nothing ever links (DESIGN rule 14;
a Chatwoot bug merged one address across accounts). Every statement here names the brand, so a wrong brand id
finds nothing.

Conversations point at their contact: the proved one, the visitor's other conversations with the brand (the
same browser token) that had none, and every later one that visitor starts (`contact_for_visitor`). The brand's
admins merge two of their contacts: the conversations move to the one kept, the other stays as a pointer to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import ID_MAX, db, unit_of_work, use_case, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.routing.models import Contact, Conversation
from marketplace.routing.router.loads import insert_ignore

# A merged contact points at the one it went to; a chain longer than this is a fault, not data.
MOST_MERGES = 20


def normalise_email(email: object, field: str = "email") -> str:
    """The address as contacts are keyed: the local part and the domain lower-cased, the domain in IDNA (ASCII)."""
    if not isinstance(email, str):
        raise InvalidInput(_l("Enter an e-mail address."), field)
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(str(error), field) from None
    return f"{valid.local_part.lower()}@{valid.ascii_domain.lower()}"


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
        db.session.execute(
            sa.update(Conversation)
            .where(Conversation.brand_id == brand_id, sa.or_(
                Conversation.id == conversation_id,
                sa.and_(Conversation.visitor_token_hash == token_hash, Conversation.contact_id.is_(None))))
            .values(contact_id=contact_id).execution_options(synchronize_session=False))


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
    accounts.record_audit("contacts_merged", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                          contact_id=kept.id, merged_contact_id=merged.id, conversations=moved,
                          token_id=getattr(actor, "token_id", None))  # no address: the audit log outlives contacts
    return kept


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
