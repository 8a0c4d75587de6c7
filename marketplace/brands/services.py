"""Brand use cases: each one a transaction, with an explicit actor, scoped to what the actor may see."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.brands.models import (
    RETENTION_MONTHS,
    Actor,
    ApiToken,
    Brand,
    BrandMembership,
    BrandRole,
    CannedAnswer,
    EnrolmentApproval,
    RateCard,
    TokenPrincipal,
)
from marketplace.core import clock, rates
from marketplace.core.text import slugify
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text

TOKEN_PREFIX = "mkt_"  # noqa: S105 - a marker that says what a secret is, not a secret


@dataclass(frozen=True)
class IssuedToken:
    """A new token with its secret: the only moment the secret exists outside the caller's hands."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    full_name: str
    role: BrandRole


@dataclass(frozen=True)
class BrandAccess:
    """A brand as one actor stands in it."""

    brand: Brand
    role: BrandRole

    @property
    def is_admin(self) -> bool:
        return self.role == BrandRole.ADMIN


MAX_PLANNER_BONUS_CENTS = 100_000  # the brands table's check constraint


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """The IANA database's zone names, from tzdata: not the host's own files such as `localtime`."""
    return frozenset(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()) - {"Factory"}


def validate_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """Check the brand's own settings (name, timezone, currency, approval, unbooked experts, the bonus on the
    planner's shifts, the retention period of personal data) in `changes`."""
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = clean_text(changes["name"], "name", max_length=120, required=_l("Enter the brand's name."))
    if "timezone" in changes:
        if changes["timezone"] not in iana_time_zones():
            raise InvalidInput(_l("Unknown time zone; use a name such as Europe/Paris."), "timezone")
        clean["timezone"] = changes["timezone"]
    if "currency" in changes:
        currency = (changes["currency"] or "").upper()
        if currency not in list_currencies():
            raise InvalidInput(_l("Unknown currency; use an ISO 4217 code such as EUR."), "currency")
        clean["currency"] = currency
    if "enrolment_approval" in changes:
        try:
            clean["enrolment_approval"] = EnrolmentApproval(changes["enrolment_approval"])
        except ValueError:
            raise InvalidInput(_l("Choose manual or automatic approval."), "enrolment_approval") from None
    if "allow_unbooked_online" in changes:
        if not isinstance(changes["allow_unbooked_online"], bool):
            raise InvalidInput(_l("Answer yes or no."), "allow_unbooked_online")
        clean["allow_unbooked_online"] = changes["allow_unbooked_online"]
    if "planner_bonus_cents" in changes:
        bonus = changes["planner_bonus_cents"]
        if isinstance(bonus, bool) or not isinstance(bonus, int) or not 0 <= bonus <= MAX_PLANNER_BONUS_CENTS:
            raise InvalidInput(_l("The bonus must be a whole number of cents, from 0 up to %(count)d.",
                                  count=MAX_PLANNER_BONUS_CENTS), "planner_bonus_cents")
        clean["planner_bonus_cents"] = bonus
    if "retention_months" in changes:
        months, (low, high) = changes["retention_months"], RETENTION_MONTHS
        if isinstance(months, bool) or not isinstance(months, int) or not low <= months <= high:
            raise InvalidInput(_l("Enter a whole number of months from %(low)s to %(high)s.", low=low, high=high),
                               "retention_months")
        clean["retention_months"] = months
    return clean


def brand_role(actor: Actor, brand_id: int) -> BrandRole | None:
    """The actor's standing in a brand: ops act as admin, finance as viewer, members as their role."""
    if actor.is_token:
        return actor.brand_role if actor.brand_id == brand_id else None
    if actor.role == Role.OPS:
        return BrandRole.ADMIN
    if actor.role == Role.FINANCE:
        return BrandRole.VIEWER
    if actor.role != Role.BRAND:
        return None
    return db.session.scalar(
        sa.select(BrandMembership.role).where(
            BrandMembership.brand_id == brand_id, BrandMembership.user_id == actor.id
        )
    )


def brand_access(actor: Actor, brand_id: int, *, need: BrandRole = BrandRole.VIEWER) -> BrandAccess:
    """The brand and the actor's standing in it, if they may see it (404 otherwise) and act at `need` (403
    otherwise)."""
    role = brand_role(actor, brand_id)
    brand = db.session.get(Brand, brand_id) if role is not None else None
    if brand is None or role is None:
        raise NotFound(_l("No such brand."))
    if need == BrandRole.ADMIN and role != BrandRole.ADMIN:
        raise Forbidden(_l("Only the brand's admins may do this."))
    return BrandAccess(brand, role)


def get_brand(actor: Actor, brand_id: int, *, need: BrandRole = BrandRole.VIEWER) -> Brand:
    """The brand if the actor may see it (404 otherwise) and act at `need` (403 otherwise)."""
    return brand_access(actor, brand_id, need=need).brand


def brand_id_for_slug(slug: str) -> int:
    """The id behind a short name, for the command line; refuses an unknown one."""
    brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
    if brand_id is None:
        raise InvalidInput(_l("No brand has this short name."), "brand")
    return brand_id


def brand_access_by_slug(actor: Actor, slug: str, *, need: BrandRole = BrandRole.VIEWER) -> BrandAccess:
    """`brand_access` for the brand with this short name (a page's URL names it so)."""
    brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
    if brand_id is None:
        raise NotFound(_l("No such brand."))
    return brand_access(actor, brand_id, need=need)


def get_brand_by_slug(actor: Actor, slug: str, *, need: BrandRole = BrandRole.VIEWER) -> Brand:
    return brand_access_by_slug(actor, slug, need=need).brand


def visible_brands(actor: Actor) -> list[Brand]:
    query = sa.select(Brand).order_by(Brand.name)
    if actor.is_token:
        query = query.where(Brand.id == actor.brand_id)
    elif actor.role == Role.BRAND:
        query = query.join(BrandMembership).where(BrandMembership.user_id == actor.id)
    elif actor.role not in (Role.OPS, Role.FINANCE):
        raise Forbidden(_l("Your role does not include brands."))
    return list(db.session.scalars(query))


def brand_directory() -> list[Brand]:
    """Every brand, for experts choosing where to apply (names and settings only, nothing private)."""
    return list(db.session.scalars(sa.select(Brand).order_by(Brand.name)))


def brand_for_widget(widget_key: str) -> Brand:
    """The brand a public widget key names; 404 for an unknown key."""
    brand = db.session.scalar(sa.select(Brand).where(Brand.widget_key == (widget_key or "")[:40]))
    if brand is None:
        raise NotFound(_l("This chat is not available."))
    return brand


def canned_answers(brand_ids: set[int]) -> dict[int, list[CannedAnswer]]:
    """Each brand's ready-made replies, in their order."""
    answers: dict[int, list[CannedAnswer]] = {brand_id: [] for brand_id in brand_ids}
    if brand_ids:
        for answer in db.session.scalars(sa.select(CannedAnswer).where(CannedAnswer.brand_id.in_(brand_ids))
                                         .order_by(CannedAnswer.position, CannedAnswer.id)):
            answers[answer.brand_id].append(answer)
    return answers


def brands_by_id(brand_ids: set[int]) -> dict[int, Brand]:
    if not brand_ids:
        return {}
    return {brand.id: brand for brand in db.session.scalars(sa.select(Brand).where(Brand.id.in_(brand_ids)))}


@use_case
def create_brand(actor: User | None, name: str, *, slug: str | None = None,
                 timezone: str = "Europe/Paris", currency: str = "EUR") -> Brand:
    """Open a brand on the platform (ops, or the command line when actor is None)."""
    if actor is not None and (actor.is_token or actor.role != Role.OPS):
        raise Forbidden(_l("Only ops staff create brands."))
    clean = validate_settings({"name": name, "timezone": timezone, "currency": currency})
    slug = slugify(slug if slug is not None else clean["name"])
    if not slug:
        raise InvalidInput(_l("Use letters or digits in the brand's short name."), "slug")
    if db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug)) is not None:
        raise Conflict(_l("Another brand already uses this short name."), "slug")
    brand = Brand(slug=slug, **clean)
    db.session.add(brand)
    db.session.flush()
    # Every brand has a price from its first day; its admins schedule changes on the rate card.
    today = clock.local_day(utcnow(), brand.timezone)
    db.session.add(RateCard(brand_id=brand.id, effective_from=today, price_cents=rates.DEFAULT_PRICE_CENTS,
                            commission_bps=rates.DEFAULT_COMMISSION_BPS, bonus_rules=[],
                            created_by_id=actor.id if actor else None))
    accounts.record_audit("brand_created", actor_id=actor.id if actor else None, brand_id=brand.id, slug=slug)
    return brand


@use_case
def update_brand(actor: Actor, brand_id: int, changes: dict[str, Any]) -> Brand:
    brand = get_brand(actor, brand_id, need=BrandRole.ADMIN)
    for key, value in validate_settings(changes).items():
        setattr(brand, key, value)
    return brand


def list_members(actor: Actor, brand_id: int) -> list[Member]:
    get_brand(actor, brand_id)
    rows = db.session.execute(
        sa.select(BrandMembership.user_id, BrandMembership.role)
        .where(BrandMembership.brand_id == brand_id)
        .order_by(BrandMembership.id)
    ).all()
    users = accounts.users_by_id({row.user_id for row in rows})
    return [Member(row.user_id, users[row.user_id].email, users[row.user_id].full_name, row.role) for row in rows]


@use_case
def add_member(actor: User | None, brand_id: int, user_id: int, role: BrandRole) -> None:
    """Give a brand account access to a brand (its admins, ops, or the command line)."""
    if actor is not None:
        get_brand(actor, brand_id, need=BrandRole.ADMIN)
    elif db.session.get(Brand, brand_id) is None:
        raise NotFound(_l("No such brand."))
    user = accounts.get_user(user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    if user.role != Role.BRAND:
        raise InvalidInput(_l("Only brand accounts can be brand members."), "user_id")
    membership = db.session.scalar(
        sa.select(BrandMembership).where(BrandMembership.brand_id == brand_id, BrandMembership.user_id == user_id)
    )
    if membership is None:
        db.session.add(BrandMembership(brand_id=brand_id, user_id=user_id, role=BrandRole(role)))
    else:
        membership.role = BrandRole(role)
    accounts.record_audit("brand_member_set", actor_id=actor.id if actor else None, subject_id=user_id,
                          brand_id=brand_id, role=str(role))


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_person(actor: Actor) -> User:
    if actor.is_token:
        raise Forbidden(_l("API tokens are managed by people, not by other tokens."))
    return actor


def list_api_tokens(actor: Actor, brand_id: int) -> list[ApiToken]:
    get_brand(_require_person(actor), brand_id, need=BrandRole.ADMIN)
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.brand_id == brand_id).order_by(ApiToken.id.desc())
    ))


@use_case
def issue_api_token(actor: Actor, brand_id: int, name: str, role: BrandRole = BrandRole.VIEWER,
                    *, ip: str | None = None) -> IssuedToken:
    """Create a token and return it with its secret, which is shown this once and never stored."""
    person = _require_person(actor)
    get_brand(person, brand_id, need=BrandRole.ADMIN)
    name = clean_text(name, "name", max_length=80,
                      required=_l("Name the token, e.g. after the system that will use it."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(brand_id=brand_id, name=name, role=BrandRole(role), prefix=secret[:12],
                     secret_hash=_hash_secret(secret), created_by_id=person.id)
    db.session.add(token)
    db.session.flush()
    accounts.record_audit("api_token_created", actor_id=person.id, ip=ip, brand_id=brand_id,
                          token_id=token.id, role=str(token.role))
    return IssuedToken(token, secret)


@use_case
def revoke_api_token(actor: Actor, brand_id: int, token_id: int, *, ip: str | None = None) -> ApiToken:
    person = _require_person(actor)
    get_brand(person, brand_id, need=BrandRole.ADMIN)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.brand_id != brand_id:
        raise NotFound(_l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        accounts.record_audit("api_token_revoked", actor_id=person.id, ip=ip, brand_id=brand_id,
                              token_id=token.id)
    return token


def authenticate_api_token(secret: str) -> TokenPrincipal | None:
    """The principal for a live token's secret, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.secret_hash == _hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    # Note use, but at most once a minute, so busy integrations do not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with unit_of_work():
            token.last_used_at = now
    return TokenPrincipal(token)
