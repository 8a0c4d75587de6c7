"""Expert use cases: sign-up and the profile, payout details; each one a transaction, with an explicit actor."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
import sqlalchemy as sa
from babel import Locale
from flask_babel import lazy_gettext as _l
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret

from marketplace import sealing
from marketplace.accounts import passwords
from marketplace.accounts import services as accounts
from marketplace.accounts.language import remember_language
from marketplace.accounts.models import Role, User
from marketplace.database import db, use_case
from marketplace.errors import FieldProblems, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.experts.models import ExpertProfile, ExpertStatus, PayoutDetails
from marketplace.skills import services as skills

IBAN_PURPOSE = "payout-iban"
MAX_LANGUAGES = 10
MAX_SKILLS = 20
_ENGLISH = Locale("en")
LANGUAGE_CODES = frozenset(code for code in _ENGLISH.languages if code.isalpha() and len(code) in (2, 3))
COUNTRY_CODES = frozenset(code for code in _ENGLISH.territories if code.isalpha() and len(code) == 2)

REFUSALS = {
    ExpertStatus.APPLIED: _l("Your application is still under review: you can do this once our team approves it."),
    ExpertStatus.REJECTED: _l("Your application was not accepted, so you cannot do this. You can correct it and "
                              "resubmit it from your profile page."),
    ExpertStatus.SUSPENDED: _l("Your account is suspended, so you cannot do this. Contact our team to know more."),
}


@dataclass(frozen=True)
class PayoutView:
    """Payout details as their owner and finance see them; `iban` is filled only on an audited full read."""

    account_holder: str
    iban_masked: str
    iban_country: str
    bic: str | None
    iban: str | None = None


def _clean_languages(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(_l("Choose at least one language you can answer in."), "languages")
    codes = list(dict.fromkeys(str(code).strip().lower() for code in value))
    unknown = [code for code in codes if code not in LANGUAGE_CODES]
    if unknown:
        raise InvalidInput(_l("Unknown language code: %(codes)s.", codes=", ".join(unknown)), "languages")
    if len(codes) > MAX_LANGUAGES:
        raise InvalidInput(_l("Choose at most %(count)d languages.", count=MAX_LANGUAGES), "languages")
    return codes


def _clean_country(value: Any) -> str:
    country = str(value or "").strip().upper()
    if country not in COUNTRY_CODES:
        raise InvalidInput(_l("Choose your country."), "country")
    return country


def _clean_phone(value: Any, country: str | None) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, country or "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(_l("Enter a valid phone number, e.g. +33 6 12 34 56 78."), "phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_business_id(value: Any, country: str | None) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if country == "FR":
        try:
            return siret.validate(text)
        except StdnumError:
            raise InvalidInput(_l("Enter a valid SIRET number: 14 digits, as on your INSEE notice."),
                               "business_id") from None
    return clean_text(text, "business_id", max_length=40)


def _clean_profile(changes: dict[str, Any], profile: ExpertProfile | None = None) -> dict[str, Any]:
    """Validate the profile fields present in `changes`, refusing every bad one at once.

    The country decides how phone and SIRET are read; `skills` comes back as the Skill rows.
    """
    problems = FieldProblems()
    cleaners: dict[str, Callable[[Any], Any]] = {
        "display_name": lambda value: clean_text(value, "display_name", max_length=60,
                                                 required=_l("Choose the name visitors will see.")),
        "bio": lambda value: clean_text(value, "bio", max_length=500),
        "motivation": lambda value: clean_text(value, "motivation", max_length=1000),
        "languages": _clean_languages,
        "country": _clean_country,
        "skills": _chosen_skills,
    }
    clean: dict[str, Any] = {}
    for name, cleaner in cleaners.items():
        if name in changes:
            value = problems.check(functools.partial(cleaner, changes[name]))
            if name not in problems.errors:
                clean[name] = value
    country = clean.get("country", profile.country if profile else None)
    if "phone" in changes:
        clean["phone"] = problems.check(lambda: _clean_phone(changes["phone"], country))
    if "business_id" in changes:
        clean["business_id"] = problems.check(lambda: _clean_business_id(changes["business_id"], country))
    elif "country" in clean and profile is not None and profile.business_id:
        clean["business_id"] = problems.check(lambda: _clean_business_id(profile.business_id, country))
    problems.raise_any()
    return clean


def _chosen_skills(slugs: Any) -> list:
    if not isinstance(slugs, list | tuple):
        raise InvalidInput(_l("Choose skills from the list."), "skills")
    chosen = skills.skills_from_slugs(slugs)
    if len(chosen) > MAX_SKILLS:
        raise InvalidInput(_l("Choose at most %(count)d skills.", count=MAX_SKILLS), "skills")
    return chosen


def _clean_sign_up(email: str, password: str, full_name: str, details: dict[str, Any]) -> dict[str, Any]:
    """Check a whole sign-up, naming every field it refuses at once; return the clean profile."""
    problems = FieldProblems()
    address = problems.check(lambda: accounts.normalize_email(email or ""))
    if address is not None and accounts.find_user_by_email(address) is not None:
        problems.add("email", _l("An account with this e-mail already exists."))
    problems.check(lambda: clean_text(full_name, "full_name", max_length=120, required=_l("Enter your name.")))
    problems.check(lambda: passwords.check_strength(password or ""))
    clean = problems.check(lambda: _clean_profile(details))
    problems.raise_any()
    return clean or {}


def _sign_up_details(full_name: str, display_name: str | None, profile: dict[str, Any] | None) -> dict[str, Any]:
    details = dict(profile or {})
    if display_name is not None:
        details["display_name"] = display_name
    if not details.get("display_name"):
        first_name = (full_name or "").split()[:1]
        if first_name:
            details["display_name"] = first_name[0]
        else:
            details.pop("display_name", None)  # no name at all: the full name's refusal says it
    return details


def check_sign_up(email: str, password: str, full_name: str, display_name: str | None = None,
                  *, profile: dict[str, Any] | None = None) -> None:
    """Refuse, naming every field at once, what `sign_up_expert` would refuse; write nothing."""
    _clean_sign_up(email, password, full_name, _sign_up_details(full_name, display_name, profile))


@use_case
def sign_up_expert(email: str, password: str, full_name: str, display_name: str | None = None,
                   *, profile: dict[str, Any] | None = None, locale: str | None = None,
                   ip: str | None = None) -> User:
    """Open an expert account with its profile; the application then waits for vetting.

    `locale` is the language the person signed up in: later mails and notifications use it.
    """
    details = _sign_up_details(full_name, display_name, profile)
    clean = _clean_sign_up(email, password, full_name, details)  # everything is checked before anything is written
    user = accounts.add_user(email, password, full_name, Role.EXPERT)
    db.session.add(ExpertProfile(user_id=user.id, status=ExpertStatus.APPLIED, **{"skills": [], **clean}))
    accounts.record_audit("signup", actor_id=user.id, subject_id=user.id, ip=ip, role=str(Role.EXPERT),
                          locale=locale)
    remember_language(user, locale, chosen=True)
    return user


def own_profile(actor: User) -> ExpertProfile:
    if actor.is_token or actor.role != Role.EXPERT:
        raise Forbidden(_l("Only experts have an expert profile."))
    profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == actor.id))
    if profile is None:
        raise NotFound(_l("No expert profile yet."))
    return profile


def apply_profile_changes(profile: ExpertProfile, changes: dict[str, Any]) -> list[str]:
    """Validate `changes` (every bad field at once) and stage them; return the fields whose value changed."""
    clean = _clean_profile(changes, profile)
    changed = [key for key, value in clean.items() if getattr(profile, key) != value]
    for key in changed:
        setattr(profile, key, clean[key])
    return changed


@use_case
def update_own_profile(actor: User, changes: dict[str, Any]) -> ExpertProfile:
    profile = own_profile(actor)
    apply_profile_changes(profile, changes)
    return profile


def require_approved(profile: ExpertProfile) -> None:
    """Refuse, saying why, anything but an approved expert (booking, going online, being paid)."""
    if profile.status != ExpertStatus.APPROVED:
        raise Forbidden(REFUSALS[profile.status])


def require_may_apply(profile: ExpertProfile) -> None:
    """Refuse, saying why, a rejected or suspended expert applying to brands or taking their quizzes.

    An applicant under review may: the brands' approval then waits until ops approve them.
    """
    if not profile.may_apply:
        raise Forbidden(REFUSALS[profile.status])


def lock_expert(expert_id: int) -> ExpertProfile:
    """Load the profile for update, so one expert's concurrent requests take turns (a row lock on PostgreSQL)."""
    profile = db.session.scalar(
        sa.select(ExpertProfile).where(ExpertProfile.id == expert_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if profile is None:
        raise NotFound(_l("No such expert."))
    return profile


def get_profile(expert_id: int) -> ExpertProfile | None:
    return db.session.get(ExpertProfile, expert_id)


def profiles_by_id(expert_ids: set[int]) -> dict[int, ExpertProfile]:
    if not expert_ids:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(ExpertProfile).where(ExpertProfile.id.in_(expert_ids)))}


def count_by_status() -> dict[ExpertStatus, int]:
    rows = db.session.execute(
        sa.select(ExpertProfile.status, sa.func.count()).group_by(ExpertProfile.status)
    ).all()
    counts = {status: 0 for status in ExpertStatus}
    counts.update({row[0]: row[1] for row in rows})
    return counts


# Payout details: visible to their owner and to finance only; full reads are audited.

def _mask(country: str, last4: str) -> str:
    return f"{country}•• •••• •••• •••• {last4}"


def _payout_subject(actor: User, expert_id: int | None) -> ExpertProfile:
    """The expert whose payout details `actor` may see: their own, or anyone's for finance."""
    if not actor.is_token and actor.role == Role.EXPERT:
        profile = own_profile(actor)
        if expert_id is not None and expert_id != profile.id:
            raise NotFound(_l("No such expert."))  # another expert's details do not exist for you
        return profile
    if actor.is_token or actor.role != Role.FINANCE or expert_id is None:
        raise Forbidden(_l("Only the expert and finance staff see payout details."))
    profile = db.session.get(ExpertProfile, expert_id)
    if profile is None:
        raise NotFound(_l("No such expert."))
    return profile


@use_case
def set_payout_details(actor: User, account_holder: str, iban: str, bic: str | None = None,
                       *, ip: str | None = None) -> PayoutView:
    """Record where the expert is paid; the IBAN is checked, then sealed."""
    profile = own_profile(actor)
    holder = clean_text(account_holder, "account_holder", max_length=120,
                        required=_l("Enter the account holder's name."))
    try:
        parsed = IBAN(iban or "")
    except SchwiftyException:
        raise InvalidInput(_l("This IBAN is not valid: check it against your bank details."), "iban") from None
    bic_code = None
    if bic and bic.strip():
        try:
            bic_code = str(BIC(bic.strip()))
        except SchwiftyException:
            raise InvalidInput(_l("This BIC is not valid."), "bic") from None
    details = db.session.get(PayoutDetails, profile.id) or PayoutDetails(expert_id=profile.id)
    details.account_holder = holder
    details.iban_sealed = sealing.seal(parsed.compact, IBAN_PURPOSE)
    details.iban_country = parsed.country_code
    details.iban_last4 = parsed.compact[-4:]
    details.bic = bic_code
    db.session.add(details)
    accounts.record_audit("payout_details_changed", actor_id=actor.id, subject_id=actor.id, ip=ip,
                          iban_last4=details.iban_last4)
    return _view(details)


def _view(details: PayoutDetails, *, full: bool = False) -> PayoutView:
    return PayoutView(details.account_holder, _mask(details.iban_country, details.iban_last4), details.iban_country,
                      details.bic, sealing.unseal(details.iban_sealed, IBAN_PURPOSE) if full else None)


def payout_summary(actor: User, expert_id: int | None = None) -> PayoutView | None:
    """The masked payout details (no audit: the masked form reveals nothing usable)."""
    profile = _payout_subject(actor, expert_id)
    details = db.session.get(PayoutDetails, profile.id)
    return _view(details) if details else None


def masked_payout_details(expert_ids: set[int]) -> dict[int, PayoutView]:
    """The experts' masked payout details (no audit: the masked form reveals nothing usable), for the documents
    the platform owes them (the yearly tax summary)."""
    if not expert_ids:
        return {}
    rows = db.session.scalars(sa.select(PayoutDetails).where(PayoutDetails.expert_id.in_(expert_ids)))
    return {details.expert_id: _view(details) for details in rows}


def payout_ready(expert_ids: set[int]) -> set[int]:
    """Those who can be paid by bank transfer: payout details on file, and a SIRET for experts in France."""
    if not expert_ids:
        return set()
    rows = db.session.execute(
        sa.select(ExpertProfile.id, ExpertProfile.country, ExpertProfile.business_id)
        .join(PayoutDetails, PayoutDetails.expert_id == ExpertProfile.id)
        .where(ExpertProfile.id.in_(expert_ids))
    ).all()
    return {row.id for row in rows if row.country != "FR" or row.business_id}


def billing_ready(expert_ids: set[int]) -> set[int]:
    """Those who may be paid at all, whatever the rail: experts in France need a SIRET (self-billing)."""
    if not expert_ids:
        return set()
    rows = db.session.execute(sa.select(ExpertProfile.id, ExpertProfile.country, ExpertProfile.business_id)
                              .where(ExpertProfile.id.in_(expert_ids))).all()
    return {row.id for row in rows if row.country != "FR" or row.business_id}


@dataclass(frozen=True)
class BankAccount:
    account_holder: str
    iban: str
    bic: str | None


@use_case
def bank_accounts_for_transfer(actor: User, expert_ids: set[int], *, ip: str | None = None,
                               reason: str = "") -> dict[int, BankAccount]:
    """The full bank details of the experts a transfer file pays (finance only); one audit event per expert."""
    if actor.is_token or actor.role != Role.FINANCE:
        raise Forbidden(_l("Only the expert and finance staff see payout details."))
    found = {}
    if expert_ids:
        rows = db.session.execute(sa.select(PayoutDetails, ExpertProfile.user_id)
                                  .join(ExpertProfile, ExpertProfile.id == PayoutDetails.expert_id)
                                  .where(PayoutDetails.expert_id.in_(expert_ids))).all()
        for details, user_id in rows:
            found[details.expert_id] = BankAccount(details.account_holder,
                                                   sealing.unseal(details.iban_sealed, IBAN_PURPOSE), details.bic)
            accounts.record_audit("payout_details_read", actor_id=actor.id, subject_id=user_id, ip=ip,
                                  expert_id=details.expert_id, reason=reason)
    return found


@use_case
def read_payout_details(actor: User, expert_id: int | None = None, *, ip: str | None = None) -> PayoutView:
    """The full payout details, for their owner or finance; every read is written to the audit log."""
    profile = _payout_subject(actor, expert_id)
    details = db.session.get(PayoutDetails, profile.id)
    if details is None:
        raise NotFound(_l("No payout details yet."))
    accounts.record_audit("payout_details_read", actor_id=actor.id, subject_id=profile.user_id, ip=ip,
                          expert_id=profile.id)
    return _view(details, full=True)


def own_payout_details(expert_id: int) -> PayoutView | None:
    """The expert's full payout details for their own data export; the caller records the read in the audit log."""
    details = db.session.get(PayoutDetails, expert_id)
    return _view(details, full=True) if details else None
