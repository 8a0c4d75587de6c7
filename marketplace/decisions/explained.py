"""What the "How decisions are made" page says: the parameters in force of every automated system that affects
an expert, read from the settings and from the rows of each brand they work for (never copies).

Domains above this one add their own figures through `register_parameters` (the payouts' fraud checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from marketplace.accounts.models import User
from marketplace.brands import rates
from marketplace.brands import services as brands
from marketplace.core import scaling
from marketplace.core.rates import DEFAULT_COMMISSION_BPS, DEFAULT_PRICE_CENTS, parse_bonus_rules
from marketplace.database import use_case
from marketplace.experts import enrolments
from marketplace.experts import services as experts

# Called with no argument, inside a request or a job: a dict of figures the page shows under its name.
ParameterSource = Callable[[], dict[str, Any]]


def register_parameters(app: Flask, name: str, source: ParameterSource) -> None:
    app.extensions.setdefault("decision_parameters", {})[name] = source


@dataclass(frozen=True)
class BrandRules:
    """The figures one brand sets that the automated systems use."""

    brand_id: int
    name: str
    currency: str
    offer_timeout_seconds: int
    expert_concurrency: int
    allow_unbooked_online: bool
    price_cents: int
    commission_bps: int
    bonus_rules: list[dict[str, Any]]


@dataclass(frozen=True)
class Explained:
    settings: dict[str, Any]
    brands: list[BrandRules]
    extra: dict[str, dict[str, Any]]


def platform_settings() -> dict[str, Any]:
    """The platform-wide figures in force, from the settings and the planner's rules."""
    config = current_app.config
    prior_mean, prior_weight = scaling.RATING_PRIOR
    return {
        "missed_offers_limit": config["PRESENCE_MISSED_OFFERS_AWAY"],
        "heartbeat_grace_seconds": config["PRESENCE_GRACE_SECONDS"],
        "offline_after_minutes": config["PRESENCE_OFFLINE_AFTER_MINUTES"],
        "lead_minutes": config["CAPACITY_LEAD_MINUTES"],
        "invitation_minutes": config["CAPACITY_INVITATION_MINUTES"],
        "reinvite_minutes": config["CAPACITY_REINVITE_MINUTES"],
        "invitation_window_minutes": config["CAPACITY_WINDOW_MINUTES"],
        "scale_down_minutes": int(scaling.WINDOW.total_seconds() // 60),
        "rating_prior_mean": prior_mean,
        "rating_prior_weight": prior_weight,
        "hold_days": config["PAYOUT_HOLD_DAYS"],
        "rating_grace_minutes": config["PAYOUT_RATING_GRACE_MINUTES"],
    }


def brand_rules(brand_ids: set[int]) -> list[BrandRules]:
    found = []
    for brand in sorted(brands.brands_by_id(brand_ids).values(), key=lambda b: b.name.lower()):
        terms = rates.terms_in_effect(brand)
        price, commission, bonus = terms if terms is not None else (DEFAULT_PRICE_CENTS, DEFAULT_COMMISSION_BPS, [])
        found.append(BrandRules(brand.id, brand.name, brand.currency, brand.offer_timeout_seconds,
                                brand.expert_concurrency, brand.allow_unbooked_online, price, commission,
                                [rule.as_dict() for rule in parse_bonus_rules(bonus)]))
    return found


@use_case
def how_decisions_are_made(actor: User) -> Explained:
    """The figures in force for the calling expert: the platform's, and each brand's that approved them."""
    profile = experts.own_profile(actor)
    extra = {name: source() for name, source in current_app.extensions.get("decision_parameters", {}).items()}
    return Explained(platform_settings(), brand_rules(enrolments.approved_brand_ids(profile.id)), extra)
