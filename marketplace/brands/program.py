"""A brand's chat program: where the widget may appear, what it offers, the router's timings and caps."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from babel import Locale
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import opening
from marketplace.brands.models import Actor, Brand, BrandRole, CannedAnswer
from marketplace.brands.services import get_brand, validate_settings
from marketplace.core.routing import parse_hours
from marketplace.database import db, use_case
from marketplace.errors import InvalidInput, clean_text

MAX_ORIGINS = 20
MAX_TOPICS = 20
MAX_CANNED = 50
MAX_LANGUAGES = 20
MAX_ORIGIN_LENGTH = 300  # scheme, a host name of at most 253 characters, a port
# Settings kept with the brand's account that its program page edits too.
BRAND_SETTINGS = ("timezone", "enrolment_approval", "allow_unbooked_online", "retention_months")
# field: (lowest, highest, whether None (no limit) is allowed)
NUMBERS: dict[str, tuple[int, int, bool]] = {
    "offer_timeout_seconds": (5, 600, False),
    "max_wait_seconds": (10, 86400, False),
    "inactivity_close_minutes": (1, 1440, False),
    "expert_concurrency": (1, 10, False),
    "async_expert_limit": (0, 100, False),
    "async_first_reply_minutes": (1, 1440, False),
    "async_quiet_hours": (1, 2160, False),
    "reopen_window_hours": (0, 2160, False),
    "service_level_percent": (1, 100, False),
    "service_level_seconds": (5, 3600, False),
    "max_concurrent": (0, 100_000, True),
    "max_active_experts": (0, 100_000, True),
    "daily_cap": (0, 10_000_000, True),
    "monthly_budget_cents": (0, 10**12, True),
    # The largest file sent in a chat: 1 MB to 25 MB (a phone photo is 2 to 6 MB; the scanner reads it all).
    "attachment_max_bytes": (1_048_576, 26_214_400, False),
}


LANGUAGE_CODES = frozenset(code for code in Locale("en").languages if len(code) == 2)


def clean_origin(value: object) -> str:
    """An origin as browsers send it: scheme://host[:port], with `*` allowed for the port."""
    text = str(value or "").strip().rstrip("/")
    try:
        parts = urlsplit(text.replace(":*", ":0"))
    except ValueError:  # an unbalanced [ or ] around an IPv6 host
        parts = None
    if (parts is None or len(text) > MAX_ORIGIN_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.path or parts.query):
        raise InvalidInput(_l("%(origin)s is not an origin such as https://www.example.com.", origin=text or "—"),
                           "widget_origins")
    return text


def clean_languages(languages: object) -> list[str]:
    """Languages as ISO 639-1 codes (fr, en, ...), known to Babel, without repeats."""
    if not isinstance(languages, list) or len(languages) > MAX_LANGUAGES:
        raise InvalidInput(_l("List at most %(count)d languages.", count=MAX_LANGUAGES), "languages")
    codes = []
    for language in languages:
        code = str(language or "").strip().lower()
        if not re.fullmatch(r"[a-z]{2}", code) or code not in LANGUAGE_CODES:
            raise InvalidInput(_l("%(code)s is not a language code such as fr or en.", code=code or "—"), "languages")
        codes.append(code)
    return list(dict.fromkeys(codes))


def _number(name: str, value: object) -> int | None:
    low, high, optional = NUMBERS[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), name)
    return value


def _validate(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in NUMBERS:
        if name in changes:
            clean[name] = _number(name, changes[name])
    if "widget_origins" in changes:
        origins = changes["widget_origins"]
        if not isinstance(origins, list) or len(origins) > MAX_ORIGINS:
            raise InvalidInput(_l("List at most %(count)d origins.", count=MAX_ORIGINS), "widget_origins")
        clean["widget_origins"] = list(dict.fromkeys(clean_origin(origin) for origin in origins))
    if "topics" in changes:
        topics = changes["topics"]
        if not isinstance(topics, list) or len(topics) > MAX_TOPICS:
            raise InvalidInput(_l("List at most %(count)d topics.", count=MAX_TOPICS), "topics")
        cleaned = [clean_text(topic if isinstance(topic, str) else "", "topics", max_length=80) for topic in topics]
        clean["topics"] = list(dict.fromkeys(topic for topic in cleaned if topic))
    if "languages" in changes:
        clean["languages"] = clean_languages(changes["languages"])
    if "holiday_country" in changes or "holiday_subdivision" in changes:
        clean["holiday_country"], clean["holiday_subdivision"] = opening.check_holiday_region(
            changes.get("holiday_country"), changes.get("holiday_subdivision"))
    clean.update(validate_settings({name: changes[name] for name in BRAND_SETTINGS if name in changes}))
    if "opening_hours" in changes:
        try:
            parse_hours(changes["opening_hours"])
        except (ValueError, TypeError) as error:
            raise InvalidInput(str(error), "opening_hours") from None
        clean["opening_hours"] = changes["opening_hours"]
    return clean


@use_case
def update_program(actor: Actor, brand_id: int, changes: dict[str, Any]) -> Brand:
    """Change the chat program (brand admins); caps apply to the very next arrival."""
    brand = get_brand(actor, brand_id, need=BrandRole.ADMIN)
    clean = _validate(changes)
    for key, value in clean.items():
        setattr(brand, key, value)
    accounts.record_audit("brand_program_changed", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          fields=sorted(clean))
    return brand


@use_case
def set_canned_answers(actor: Actor, brand_id: int, answers: list[dict[str, Any]]) -> list[CannedAnswer]:
    """Replace the brand's canned answers with `answers` ([{title, body}], in order)."""
    get_brand(actor, brand_id, need=BrandRole.ADMIN)
    if not isinstance(answers, list) or len(answers) > MAX_CANNED:
        raise InvalidInput(_l("Give at most %(count)d canned answers.", count=MAX_CANNED), "canned_answers")
    rows = []
    for position, answer in enumerate(answers):
        answer = answer if isinstance(answer, dict) else {}
        title = clean_text(answer.get("title"), "canned_answers", max_length=80,
                           required=_l("Every canned answer needs a title."))
        body = clean_text(answer.get("body"), "canned_answers", max_length=2000,
                          required=_l("Every canned answer needs a text."))
        rows.append(CannedAnswer(brand_id=brand_id, position=position, title=title, body=body))
    db.session.execute(sa.delete(CannedAnswer).where(CannedAnswer.brand_id == brand_id))
    db.session.add_all(rows)
    return rows


@use_case
def update_widget(actor: Actor, brand_id: int, *, widget_origins: list[str],
                  canned_answers: list[dict[str, Any]], attachment_max_bytes: int | None = None) -> Brand:
    """Save the widget's settings (brand admins): where it may appear, the canned answers and the largest file
    sent in a chat, together or not at all."""
    changes: dict[str, Any] = {"widget_origins": widget_origins}
    if attachment_max_bytes is not None:
        changes["attachment_max_bytes"] = attachment_max_bytes
    brand = update_program(actor, brand_id, changes)
    set_canned_answers(actor, brand_id, canned_answers)
    return brand
