"""Demo data: a few brands, experts and staff to try every role. Safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db
from marketplace.experts import services as experts

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for people to log in to a local demo


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str = DEMO_PASSWORD


STAFF = [
    (Role.OPS, "ops@demo.example.com", "Odile Ops"),
    (Role.FINANCE, "finance@demo.example.com", "Farid Finance"),
    (Role.FINANCE, "finance2@demo.example.com", "Fanny Finance"),
]
BRANDS = [
    ("Maison Lumière", "maison-lumiere", "Europe/Paris", "EUR"),
    ("Vélo Rapide", "velo-rapide", "Europe/Paris", "EUR"),
]
BRAND_MEMBERS = [
    ("admin@maison-lumiere.example.com", "Bérénice Admin", "maison-lumiere", BrandRole.ADMIN),
    ("viewer@maison-lumiere.example.com", "Victor Viewer", "maison-lumiere", BrandRole.VIEWER),
    ("admin@velo-rapide.example.com", "Bruno Admin", "velo-rapide", BrandRole.ADMIN),
]
EXPERTS = [
    ("expert@demo.example.com", "Emma Expert", "Emma"),
    ("lucas@demo.example.com", "Lucas Martin", "Lucas"),
]


def seed() -> list[DemoLogin]:
    """Create the demo accounts and brands that are missing; return the logins to print."""
    for role, email, name in STAFF:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(email, DEMO_PASSWORD, name, role, actor=None)
    brand_ids = {}
    for name, slug, timezone, currency in BRANDS:
        brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
        if brand_id is None:
            brand_id = brands.create_brand(None, name, slug=slug, timezone=timezone, currency=currency).id
        brand_ids[slug] = brand_id
    for email, name, slug, brand_role in BRAND_MEMBERS:
        user = accounts.find_user_by_email(email)
        if user is None:
            user = accounts.create_user(email, DEMO_PASSWORD, name, Role.BRAND, actor=None)
            brands.add_member(None, brand_ids[slug], user.id, brand_role)
    for email, name, display_name in EXPERTS:
        if accounts.find_user_by_email(email) is None:
            experts.sign_up_expert(email, DEMO_PASSWORD, name, display_name)
    return [
        DemoLogin("ops", STAFF[0][1]),
        DemoLogin("finance", STAFF[1][1]),
        DemoLogin("finance (second approver)", STAFF[2][1]),
        DemoLogin("brand admin", BRAND_MEMBERS[0][0]),
        DemoLogin("brand viewer", BRAND_MEMBERS[1][0]),
        DemoLogin("expert", EXPERTS[0][0]),
    ]
