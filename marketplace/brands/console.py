"""The brand console's tabs: one bar on every page of a brand, listing what the reader may open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import services
from marketplace.brands.models import Brand, BrandRole

# (endpoint, label, who may open it); the endpoints belong to several domains, so they are names only.
TABS = (
    ("console.dashboard", _l("Dashboard"), BrandRole.VIEWER),
    ("capacity.plan", _l("Planning"), BrandRole.VIEWER),
    ("console.live", _l("Live"), BrandRole.VIEWER),
    ("console.conversations", _l("Conversations"), BrandRole.VIEWER),
    ("left_messages.inbox", _l("Inbox"), BrandRole.VIEWER),
    ("experts.applicants", _l("Experts"), BrandRole.VIEWER),
    ("shifts.brand_slots", _l("Shifts"), BrandRole.VIEWER),
    ("brands.program", _l("Program"), BrandRole.VIEWER),
    ("brands.rates", _l("Rate card"), BrandRole.VIEWER),
    ("console.caps", _l("Caps"), BrandRole.VIEWER),
    ("console.widget_settings", _l("Widget"), BrandRole.VIEWER),
    ("brands.quiz", _l("Quiz"), BrandRole.VIEWER),
    ("statements.brand_invoices", _l("Invoices"), BrandRole.VIEWER),
    ("earnings.brand_disputes", _l("Disputes"), BrandRole.VIEWER),
    ("members.members", _l("Members"), BrandRole.VIEWER),
    ("brands.tokens", _l("API tokens"), BrandRole.ADMIN),
)


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    current: bool


def console_tabs(brand: Brand) -> list[Tab]:
    """The tabs for `brand` that exist in this app and that the reader may open."""
    role = services.brand_role(current_user, brand.id)
    tabs = []
    for endpoint, label, need in TABS:
        if endpoint not in current_app.view_functions or (need == BrandRole.ADMIN and role != BrandRole.ADMIN):
            continue
        tabs.append(Tab(str(label), url_for(endpoint, slug=brand.slug), request.endpoint == endpoint))
    return tabs


def init_app(app: Flask) -> None:
    app.jinja_env.globals["console_tabs"] = console_tabs
