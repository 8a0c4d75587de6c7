"""Demo data: a few brands, experts and staff to try every role. Safe to run twice."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.brands import program, quizzes, rates
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.config import is_production
from marketplace.core import clock
from marketplace.database import db, utcnow
from marketplace.experts import enrolments, quiz_attempts, vetting
from marketplace.experts import services as experts
from marketplace.experts.models import EnrolmentStatus, ExpertStatus
from marketplace.faq import demo_base
from marketplace.faq import entries as faq_entries
from marketplace.payouts.earnings import services as earnings
from marketplace.routing import history
from marketplace.shifts import slots as shifts

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for people to log in to a local demo
# What `serve --demo` answers in production: demo accounts there would be logins anyone can read here.
REFUSED_IN_PRODUCTION = (
    "--demo is refused in production (MARKETPLACE_ENV=production): the demo accounts share a published "
    "password. Serve without --demo, and create accounts with `marketplace create-user`."
)


class DemoRefused(RuntimeError):
    """Demo data was asked for in production; nothing was written."""


@dataclass(frozen=True)
class DemoLogin:
    role: str  # the label printed before the address
    email: str
    password: str = DEMO_PASSWORD


# Every account starts with the label `serve --demo` prints for it, so none is created without being printed.
STAFF = [
    ("ops", Role.OPS, "ops@demo.example.com", "Odile Ops"),
    ("finance", Role.FINANCE, "finance@demo.example.com", "Farid Finance"),
    ("finance (second approver)", Role.FINANCE, "finance2@demo.example.com", "Fanny Finance"),
]
BRANDS = [
    ("Maison Lumière", "maison-lumiere", "Europe/Paris", "EUR"),
    ("Vélo Rapide", "velo-rapide", "Europe/Paris", "EUR"),
]
BRAND_MEMBERS = [
    ("brand admin", "admin@maison-lumiere.example.com", "Bérénice Admin", "maison-lumiere", BrandRole.ADMIN),
    ("brand viewer", "viewer@maison-lumiere.example.com", "Victor Viewer", "maison-lumiere", BrandRole.VIEWER),
    ("brand admin (Vélo Rapide)", "admin@velo-rapide.example.com", "Bruno Admin", "velo-rapide", BrandRole.ADMIN),
]
EXPERTS = [
    ("expert", "expert@demo.example.com", "Emma Expert", "Emma",
     {"country": "FR", "phone": "+33 6 12 34 56 78", "languages": ["fr", "en"], "skills": ["lighting", "decoration"],
      "business_id": "73282932000074", "bio": "Interior designer who loves lamps.",
      "motivation": "I help friends light their homes every week."}),
    ("expert (awaiting vetting)", "lucas@demo.example.com", "Lucas Martin", "Lucas",
     {"country": "FR", "phone": "+33 7 98 76 54 32", "languages": ["fr"], "skills": ["e-bikes", "bike-repair"],
      "bio": "Bike mechanic on weekends.", "motivation": "I ride 10,000 km a year and fix every bike I meet."}),
]
# Each brand's product quiz; Vélo Rapide approves experts who pass it automatically.
QUIZZES = {
    "maison-lumiere": [
        ("Which bulb lasts longest?", ["LED", "Halogen", "Incandescent"]),
        ("What does IP44 mean for a lamp?", ["Protected against splashes", "Dimmable", "Made in France"]),
        ("Which colour temperature gives a warm light?", ["2700 K", "6500 K"]),
    ],
    "velo-rapide": [
        ("What does the battery's Wh figure tell you?", ["Its energy, hence the range", "Its weight", "Its price"]),
        ("Up to what speed may an e-bike assist in the EU?", ["25 km/h", "45 km/h", "15 km/h"]),
    ],
}


OPS_EMAIL = STAFF[0][2]
EMMA_EMAIL = EXPERTS[0][1]


def logins() -> list[DemoLogin]:
    """Every demo account, labelled as `serve --demo` prints it."""
    return ([DemoLogin(label, email) for label, _role, email, _name in STAFF]
            + [DemoLogin(label, email) for label, email, _name, _slug, _role in BRAND_MEMBERS]
            + [DemoLogin(label, email) for label, email, _name, _shown, _profile in EXPERTS])


def _ops():
    return accounts.find_user_by_email(OPS_EMAIL)


def _approve_emma(brand_id: int) -> None:
    """Emma is a vetted expert whom Maison Lumière approved; Lucas waits in the vetting queue."""
    emma = accounts.find_user_by_email(EMMA_EMAIL)
    profile = experts.own_profile(emma)
    if profile.status == ExpertStatus.APPLIED:
        vetting.decide(_ops(), profile.id, "approve")
    if not any(e.brand_id == brand_id for e in enrolments.own_enrolments(emma)):
        enrolment = enrolments.apply_to_brands(emma, [brand_id])[0]
        view = quiz_attempts.start_quiz(emma, brand_id)
        first_choices = {q.id: _first_choice(brand_id, q.id) for q in view.questions}
        quiz_attempts.submit_quiz(emma, brand_id, view.attempt_id, first_choices)
        if enrolment.status == EnrolmentStatus.QUIZ_PASSED:
            enrolments.decide_enrolment(_ops(), brand_id, enrolment.id, "approve")


def _first_choice(brand_id: int, question_id: int) -> int:
    quiz = quizzes.quiz_of(brand_id)
    question = next(q for q in quiz.questions if q.id == question_id)
    return next(c.id for c in question.choices if c.is_correct)


# Daily demo shifts in the brand's time: (start hour, end hour, seats, bonus in cents).
SHIFT_PATTERN = [(10, 14, 3, 0), (17, 21, 3, 150)]
DEMO_DAYS = 14


def _publish_demo_shifts(brand_id: int, timezone: str) -> None:
    """Open shifts for the next two weeks, unless the brand already has some ahead."""
    now = utcnow()
    if shifts.brand_slots(_ops(), brand_id, now, now + dt.timedelta(days=DEMO_DAYS)):
        return
    zone = clock.zone(timezone)
    today = clock.local_day(now, timezone)
    for offset in range(DEMO_DAYS):
        day = today + dt.timedelta(days=offset)
        for start_hour, end_hour, seats, bonus in SHIFT_PATTERN:
            starts_at = dt.datetime.combine(day, dt.time(start_hour), zone)
            ends_at = dt.datetime.combine(day, dt.time(end_hour), zone)
            if starts_at > now + dt.timedelta(hours=2):  # bookable: well before the booking cut-off
                shifts.publish_planned_slot(brand_id, starts_at, ends_at, seats, bonus)


# Each demo brand's chat program; the widget may sit on any local page (the try-it page, a test site).
LOCAL_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*"]
PROGRAMS = {
    "maison-lumiere": {
        "topics": ["Choosing a lamp", "Delivery", "Returns"],
        "canned": [
            {"title": "Hello", "body": "Bonjour ! I am an expert of Maison Lumière's lamps; how can I help?"},
            {"title": "Warm light", "body": "For a cosy living room, choose a warm white bulb of about 2700 K."},
            {"title": "Delivery", "body": "Orders leave within 48 hours and arrive in 3 to 5 working days."},
        ],
    },
    "velo-rapide": {
        "topics": ["Which bike?", "Servicing"],
        "canned": [{"title": "Hello",
                    "body": "Hello! I ride Vélo Rapide bikes every day; what would you like to know?"}],
    },
}


def _day_shape(hour: float) -> float:
    """Relative chat demand through a shop's day: nothing at night, a lunch and an evening peak."""
    if not 9 <= hour < 22:
        return 0.0
    return 0.35 + math.exp(-((hour - 12.5) / 1.5) ** 2) + 1.2 * math.exp(-((hour - 20.0) / 1.8) ** 2)


def _seed_history(brand_id: int, timezone: str, expert_id: int, peak_per_quarter: float) -> None:
    """Eight weeks of past chats (answered by Emma, a few left unanswered), so the planner has history."""
    if history.first_arrival_day(brand_id, timezone) is not None:
        return
    rng = random.Random(brand_id)  # noqa: S311 - made-up demo history, the same at every start
    zone = clock.zone(timezone)
    today = clock.local_day(utcnow(), timezone)
    weekday_factor = (0.9, 0.85, 0.9, 1.0, 1.15, 1.4, 0.6)
    card = rates.card_in_effect(brands.brands_by_id({brand_id})[brand_id])
    chats = []
    for days_ago in range(56, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        growth = 1 + 0.004 * (56 - days_ago)
        for slot in range(96):
            rate = peak_per_quarter * _day_shape(slot / 4) * weekday_factor[day.weekday()] * growth / 2.5
            for _ in range(_poisson(rng, rate)):
                local = dt.datetime.combine(day, dt.time(slot // 4, slot % 4 * 15), zone)
                created = local.astimezone(dt.UTC) + dt.timedelta(seconds=rng.uniform(0, 900))
                left = rng.random() < 0.05
                chats.append(history.PastChat(
                    created, None if left else expert_id, wait_s=int(rng.expovariate(1 / 25)),
                    handle_s=int(60 + rng.expovariate(1 / 360)),
                    rating=None if left or rng.random() < 0.4 else rng.choices((5, 4, 3, 2), (60, 25, 10, 5))[0],
                    rate_cents=card.price_cents if card else None, rate_card_id=card.id if card else None))
    history.record_past_chats(brand_id, chats)


def _seed_earnings(emma) -> None:
    """Emma's past chats earned, those past the hold payable, and her IBAN on file: finance can run a batch."""
    if experts.payout_summary(emma) is None:
        experts.set_payout_details(emma, "Emma Expert", "FR1420041010050500013M02606")
    earnings.record_earnings()  # the oldest thousand chats of the last weeks; the scheduler's minute earns on
    earnings.release_due()


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by counting exponential gaps (small means only, as here)."""
    count, total = 0, rng.expovariate(1.0) if mean > 0 else 1.0
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def _set_up_chat(brand_id: int, slug: str) -> None:
    settings = PROGRAMS[slug]
    program.update_program(_ops(), brand_id, {"widget_origins": LOCAL_ORIGINS, "topics": settings["topics"]})
    if not brands.canned_answers({brand_id})[brand_id]:
        program.set_canned_answers(_ops(), brand_id, settings["canned"])


def _set_up_faq(brand_id: int, slug: str) -> None:
    """The brand's FAQ base (faq/demo_bases/), the bot left off: its admin turns it on (the FAQ bot tab)."""
    if not faq_entries.list_entries(_ops(), brand_id).total:
        faq_entries.replace_base(_ops(), brand_id, demo_base.demo_entries(slug))


def seed() -> list[DemoLogin]:
    """Create the demo accounts and brands that are missing; return the logins to print. Never in production."""
    if is_production(current_app.config):
        raise DemoRefused(REFUSED_IN_PRODUCTION)
    for _label, role, email, name in STAFF:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(email, DEMO_PASSWORD, name, role, actor=None)
    brand_ids = {}
    for name, slug, timezone, currency in BRANDS:
        brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
        if brand_id is None:
            brand_id = brands.create_brand(None, name, slug=slug, timezone=timezone, currency=currency).id
        brand_ids[slug] = brand_id
    for _label, email, name, slug, brand_role in BRAND_MEMBERS:
        user = accounts.find_user_by_email(email)
        if user is None:
            user = accounts.create_user(email, DEMO_PASSWORD, name, Role.BRAND, actor=None)
            brands.add_member(None, brand_ids[slug], user.id, brand_role)
    for slug, questions in QUIZZES.items():
        if quizzes.quiz_of(brand_ids[slug]) is None:
            quizzes.set_quiz(_ops(), brand_ids[slug], pass_mark_percent=60, max_attempts=2,
                             cooldown_hours=24, questions=[
                                 {"text": text, "choices": [{"text": c, "is_correct": i == 0}
                                                            for i, c in enumerate(choices)]}
                                 for text, choices in questions])
    brands.update_brand(_ops(), brand_ids["velo-rapide"], {"enrolment_approval": "automatic"})
    for _label, email, name, display_name, profile in EXPERTS:
        if accounts.find_user_by_email(email) is None:
            experts.sign_up_expert(email, DEMO_PASSWORD, name, display_name, profile=profile)
    _approve_emma(brand_ids["maison-lumiere"])
    emma = experts.own_profile(accounts.find_user_by_email(EMMA_EMAIL))
    _seed_history(brand_ids["maison-lumiere"], "Europe/Paris", emma.id, peak_per_quarter=12)
    _seed_earnings(accounts.find_user_by_email(EMMA_EMAIL))
    for _name, slug, timezone, _currency in BRANDS:
        _publish_demo_shifts(brand_ids[slug], timezone)
        _set_up_chat(brand_ids[slug], slug)
        _set_up_faq(brand_ids[slug], slug)
    return logins()
