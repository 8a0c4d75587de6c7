"""A brand's people: invitations by e-mail, accepting one, roles, and removing members.

Only a hash of an invitation's secret is kept; the secret itself travels in the e-mailed link.
A brand always keeps at least one admin, so nobody can lock a brand out of its own console.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import passwords
from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language, remember_language
from marketplace.accounts.models import Role, User
from marketplace.brands import services
from marketplace.brands.models import Actor, Brand, BrandInvitation, BrandMembership, BrandRole
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.mail import send_after_commit
from marketplace.shared.links import absolute_url

INVITATION_DAYS = 7
DEAD_LINK = _l("This invitation link no longer works: it has expired, was withdrawn or was already used. "
               "Ask the brand's admin for a new one.")
LAST_ADMIN = _l("A brand keeps at least one admin: make someone else admin first.")
ALREADY_INVITED = _l("This address is already invited; send the invitation again from the list instead.")
ROLE_IN_MAIL = {BrandRole.ADMIN: _l("an admin"), BrandRole.VIEWER: _l("a viewer")}



@dataclass(frozen=True)
class OpenInvitation:
    """A live invitation as its link's page shows it."""

    invitation: BrandInvitation
    brand: Brand
    has_account: bool  # the invited address already has an account: that person logs in and joins


@dataclass(frozen=True)
class Accepted:
    user: User
    brand: Brand
    created_account: bool


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _person(actor: Actor) -> User:
    if actor.is_token:
        raise Forbidden(_l("A brand's members are managed by people, not by API tokens."))
    return actor


def _role(role: str | BrandRole) -> BrandRole:
    try:
        return BrandRole(role)
    except ValueError:
        raise InvalidInput(_l("Choose admin or viewer."), "role") from None


def _live(query: sa.Select, now: dt.datetime) -> sa.Select:
    return query.where(BrandInvitation.accepted_at.is_(None), BrandInvitation.revoked_at.is_(None),
                       BrandInvitation.expires_at > now)


def _member_ids_by_email(brand_id: int) -> dict[str, int]:
    user_ids = set(db.session.scalars(sa.select(BrandMembership.user_id).where(BrandMembership.brand_id == brand_id)))
    return {user.email: user.id for user in accounts.users_by_id(user_ids).values()}


def _send_invitation(invitation: BrandInvitation, brand: Brand, inviter: User, secret: str) -> None:
    link = absolute_url("members.accept", secret=secret)
    invitee = accounts.find_user_by_email(invitation.email)
    # The language the address's account chose; for someone new, the inviter's: the best guess there is.
    with in_language(getattr(invitee, "locale", None) or str(get_locale())):
        subject = gettext("Join %(brand)s on Marketplace", brand=brand.name)
        body = gettext(
            "Hello,\n\n%(inviter)s invites you to join %(brand)s on Marketplace as %(role)s.\n\n"
            "To accept, open this link within %(days)d days:\n\n%(link)s\n\n"
            "If you did not expect this invitation, ignore this message.",
            inviter=inviter.full_name or inviter.email, brand=brand.name, role=ROLE_IN_MAIL[invitation.role],
            days=INVITATION_DAYS, link=link,
        )
    send_after_commit(invitation.email, subject, body)


def _invited(brand_id: int, email: str, now: dt.datetime) -> bool:
    """Whether the address holds an invitation to the brand that can still be accepted."""
    return db.session.scalar(_live(sa.select(BrandInvitation.id), now).where(
        BrandInvitation.brand_id == brand_id, BrandInvitation.email == email).limit(1)) is not None


def _stage_invitation(person: User, brand: Brand, email: str, role: BrandRole, ip: str | None) -> BrandInvitation:
    """Add an invitation and its e-mail to the current transaction; `email` is already normalised."""
    now = utcnow()
    if email in _member_ids_by_email(brand.id):
        raise Conflict(_l("This address already belongs to a member of the brand."), "email")
    if _invited(brand.id, email, now):
        raise Conflict(ALREADY_INVITED, "email")
    # One invitation to an address is pending at a time (a unique index): one that expired unused gives way.
    db.session.execute(
        sa.update(BrandInvitation)
        .where(BrandInvitation.brand_id == brand.id, BrandInvitation.email == email,
               BrandInvitation.accepted_at.is_(None), BrandInvitation.revoked_at.is_(None),
               BrandInvitation.expires_at <= now)
        .values(revoked_at=now).execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    invitation = BrandInvitation(brand_id=brand.id, email=email, role=role, secret_hash=_hash(secret),
                                 invited_by_id=person.id, created_at=now,
                                 expires_at=now + dt.timedelta(days=INVITATION_DAYS))
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except sa.exc.IntegrityError:
        # Another admin invited the address at the same moment and committed first: answered as if after it.
        if _invited(brand.id, email, utcnow()):
            raise Conflict(ALREADY_INVITED, "email") from None
        raise
    accounts.record_audit("brand_member_invited", actor_id=person.id, ip=ip, brand_id=brand.id,
                          invitation_id=invitation.id, email=email, role=str(role))
    _send_invitation(invitation, brand, person, secret)
    return invitation


@use_case
def invite_member(actor: Actor, brand_id: int, email: str, role: str | BrandRole, *,
                  ip: str | None = None) -> BrandInvitation:
    """Invite an address to join the brand (its admins, ops); the link goes out once this commits."""
    person = _person(actor)
    brand = services.get_brand(person, brand_id, need=BrandRole.ADMIN)
    return _stage_invitation(person, brand, accounts.normalize_email(email or ""), _role(role), ip)


def _brand_invitation(brand_id: int, invitation_id: int) -> BrandInvitation:
    invitation = db.session.get(BrandInvitation, invitation_id)
    if invitation is None or invitation.brand_id != brand_id:
        raise NotFound(_l("No such invitation."))
    return invitation


@use_case
def resend_invitation(actor: Actor, brand_id: int, invitation_id: int, *,
                      ip: str | None = None) -> BrandInvitation:
    """Mail a fresh link for an invitation not yet accepted; the old link stops working."""
    person = _person(actor)
    brand = services.get_brand(person, brand_id, need=BrandRole.ADMIN)
    invitation = _brand_invitation(brand_id, invitation_id)
    if invitation.accepted_at is not None:
        raise Conflict(_l("This invitation was already accepted."), "invitation_id")
    if invitation.revoked_at is not None:
        raise Conflict(_l("This invitation was withdrawn; invite the address again."), "invitation_id")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    invitation.secret_hash = _hash(secret)
    invitation.expires_at = now + dt.timedelta(days=INVITATION_DAYS)
    invitation.invited_by_id = person.id
    accounts.record_audit("brand_invitation_resent", actor_id=person.id, ip=ip, brand_id=brand_id,
                          invitation_id=invitation.id, email=invitation.email)
    _send_invitation(invitation, brand, person, secret)
    return invitation


@use_case
def revoke_invitation(actor: Actor, brand_id: int, invitation_id: int, *,
                      ip: str | None = None) -> BrandInvitation:
    """Withdraw an invitation: its link stops working. Withdrawing twice changes nothing."""
    person = _person(actor)
    services.get_brand(person, brand_id, need=BrandRole.ADMIN)
    invitation = _brand_invitation(brand_id, invitation_id)
    if invitation.accepted_at is not None:
        raise Conflict(_l("This invitation was already accepted; remove the member instead."), "invitation_id")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        accounts.record_audit("brand_invitation_revoked", actor_id=person.id, ip=ip, brand_id=brand_id,
                              invitation_id=invitation.id, email=invitation.email)
    return invitation


def list_invitations(actor: Actor, brand_id: int) -> list[BrandInvitation]:
    """The brand's invitations that can still be accepted, newest first (its admins, ops)."""
    services.get_brand(_person(actor), brand_id, need=BrandRole.ADMIN)
    return list(db.session.scalars(_live(sa.select(BrandInvitation), utcnow())
                                   .where(BrandInvitation.brand_id == brand_id)
                                   .order_by(BrandInvitation.created_at.desc(), BrandInvitation.id.desc())))


@use_case
def create_brand_with_admin(actor: Actor, name: str, slug: str | None, timezone: str, currency: str,
                            admin_email: str, *, ip: str | None = None) -> tuple[Brand, BrandInvitation]:
    """Open a brand and invite its first admin (ops only).

    The e-mail is checked before the brand is written, and a new brand has no member or invitation
    the address could clash with, so a refusal leaves nothing half-written.
    """
    person = _person(actor)
    if person.role != Role.OPS:
        raise Forbidden(_l("Only ops staff create brands."))
    email = accounts.normalize_email(admin_email or "", "admin_email")
    brand = services.create_brand(person, name, slug=slug or None, timezone=timezone, currency=currency)
    return brand, _stage_invitation(person, brand, email, BrandRole.ADMIN, ip)


# Accepting: the person who holds the link joins, with their account or a new brand account.

def invitation_for_secret(secret: str) -> OpenInvitation:
    """The live invitation behind a link's secret; NotFound when it expired, was withdrawn or used."""
    invitation = db.session.scalar(_live(sa.select(BrandInvitation), utcnow())
                                   .where(BrandInvitation.secret_hash == _hash(secret or "")))
    if invitation is None:
        raise NotFound(DEAD_LINK)
    brand = db.session.get(Brand, invitation.brand_id)
    has_account = accounts.find_user_by_email(invitation.email) is not None
    return OpenInvitation(invitation, brand, has_account)


def refusal_for(user: Actor, invitation: BrandInvitation) -> str | None:
    """Why this logged-in account may not accept the invitation, or None when it may."""
    if user.is_token or user.role != Role.BRAND:
        return _l("You are logged in with an account that cannot join a brand. Log out, then open the link "
                  "again to accept the invitation.")
    if user.email != invitation.email:
        return _l("This invitation is for %(invited)s, but you are logged in as %(email)s. Log out, then open "
                  "the link again.", invited=invitation.email, email=user.email)
    return None


def accept_invitation(secret: str, *, user: User | None = None, full_name: str | None = None,
                      password: str | None = None, ip: str | None = None, locale: str | None = None) -> Accepted:
    """Join the brand: as `user` (logged in, with the invited address), or as a new brand account.

    `locale` is the language the browser asks for: saved for an account that never chose one.
    The invitation is taken with a compare-and-set on accepted_at, so a double submit creates
    one account and one membership, and the second submit is refused.
    """
    with unit_of_work():  # the read ends here: a new account's password hash below is slow on purpose
        invitation = invitation_for_secret(secret).invitation
        invitation_id, brand_id, email, role = invitation.id, invitation.brand_id, invitation.email, invitation.role
        created = user is None
        if user is not None:
            refusal = refusal_for(user, invitation)
            if refusal is not None:
                raise Forbidden(refusal)
        else:
            if accounts.find_user_by_email(email) is not None:
                raise Conflict(_l("An account already uses this address: log in with it, then open the link "
                                  "again."), "email")
            clean_text(full_name, "full_name", max_length=120, required=_l("Enter your name."))
            passwords.check_strength(password or "")
    with unit_of_work():
        if user is None:
            try:
                user = accounts.add_user(email, password or "", full_name or "", Role.BRAND)
            except sa.exc.IntegrityError:
                # The same link was submitted twice at once: the other submit created the account.
                raise NotFound(DEAD_LINK) from None
        _join(user, invitation_id, brand_id, role, created=created, ip=ip, locale=locale)
    return Accepted(user, db.session.get(Brand, brand_id), created)


def _join(user: User, invitation_id: int, brand_id: int, role: BrandRole, *, created: bool, ip: str | None,
          locale: str | None) -> None:
    """Take the invitation for `user` (compare-and-set) and make them a member with its role."""
    now = utcnow()
    taken = db.session.execute(
        sa.update(BrandInvitation)
        .where(BrandInvitation.id == invitation_id, BrandInvitation.accepted_at.is_(None),
               BrandInvitation.revoked_at.is_(None), BrandInvitation.expires_at > now)
        .values(accepted_at=now, accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise NotFound(DEAD_LINK)
    membership = db.session.scalar(sa.select(BrandMembership).where(BrandMembership.brand_id == brand_id,
                                                                    BrandMembership.user_id == user.id))
    if membership is None:
        db.session.add(BrandMembership(brand_id=brand_id, user_id=user.id, role=role))
    else:
        membership.role = role
    remember_language(user, locale)
    if created:
        accounts.record_audit("user_created", actor_id=user.id, subject_id=user.id, ip=ip, role=str(Role.BRAND),
                              invitation_id=invitation_id)
    accounts.record_audit("brand_invitation_accepted", actor_id=user.id, subject_id=user.id, ip=ip,
                          brand_id=brand_id, invitation_id=invitation_id, role=str(role))


# Members: roles and removal, never leaving a brand without an admin.

def _lock_admins(brand_id: int) -> set[int]:
    """Lock the brand's admin memberships and return their users, so two admins cannot demote each other at once."""
    return set(db.session.scalars(
        sa.select(BrandMembership.user_id)
        .where(BrandMembership.brand_id == brand_id, BrandMembership.role == BrandRole.ADMIN)
        .with_for_update()
    ))


def _membership_for_change(person: User, brand_id: int, user_id: int) -> tuple[BrandMembership, set[int]]:
    services.get_brand(person, brand_id, need=BrandRole.ADMIN)
    admins = _lock_admins(brand_id)
    if person.role == Role.BRAND and person.id not in admins:
        raise Forbidden(_l("Only the brand's admins may do this."))  # demoted meanwhile
    membership = db.session.scalar(
        sa.select(BrandMembership).where(BrandMembership.brand_id == brand_id, BrandMembership.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if membership is None:
        raise NotFound(_l("No such member."))
    return membership, admins


def _member(membership: BrandMembership) -> services.Member:
    user = accounts.get_user(membership.user_id)
    return services.Member(user.id, user.email, user.full_name, membership.role)


@use_case
def change_member_role(actor: Actor, brand_id: int, user_id: int, role: str | BrandRole, *,
                       ip: str | None = None) -> services.Member:
    """Make a member admin or viewer (admins, ops); the last admin stays an admin."""
    person = _person(actor)
    role = _role(role)
    membership, admins = _membership_for_change(person, brand_id, user_id)
    if membership.role == BrandRole.ADMIN and role != BrandRole.ADMIN and admins == {user_id}:
        raise Conflict(LAST_ADMIN, "role")
    if membership.role != role:
        accounts.record_audit("brand_member_role_changed", actor_id=person.id, subject_id=user_id, ip=ip,
                              brand_id=brand_id, previous=str(membership.role), role=str(role))
        membership.role = role
    return _member(membership)


@use_case
def remove_member(actor: Actor, brand_id: int, user_id: int, *, ip: str | None = None) -> None:
    """Take a member's access to the brand away (admins, ops); an admin may leave if another admin remains."""
    person = _person(actor)
    membership, admins = _membership_for_change(person, brand_id, user_id)
    if membership.role == BrandRole.ADMIN and admins == {user_id}:
        raise Conflict(LAST_ADMIN, "user_id")
    accounts.record_audit("brand_member_removed", actor_id=person.id, subject_id=user_id, ip=ip,
                          brand_id=brand_id, role=str(membership.role))
    db.session.delete(membership)
