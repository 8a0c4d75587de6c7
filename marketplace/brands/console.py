"""The brand console: the guard of its pages (who opens them, who changes what they show) and its tabs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import services
from marketplace.brands.models import Brand, BrandRole
from marketplace.web.roles import role_required

# Who opens a brand's pages: its members, ops (as admins) and finance (as viewers); only members and ops can be
# its admins.
READERS = ("brand", "ops", "finance")
ADMINS = ("brand", "ops")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def brand_page(*, admins_only: bool = False, admins_write: bool = True,
               roles: tuple[str, ...] | None = None) -> Callable:
    """Guard a page under /brands/<slug>: the view gets `access` (services.BrandAccess) instead of `slug`.

    The brand's people open it; someone who may not see the brand gets 404. `admins_only`: only its admins
    open it at all (403 for the others). Otherwise, with `admins_write`, a form sent (POST...) by anyone but an
    admin is refused with 403 before the view runs; without it the view decides (e.g. to show the page anyway).
    `roles` narrows who opens it by account role (e.g. ADMINS: brand people and ops, not finance).
    """
    allowed = roles or (ADMINS if admins_only else READERS)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @role_required(*allowed)
        def guarded(slug: str, **kwargs):
            need = BrandRole.ADMIN if admins_only else BrandRole.VIEWER
            access = services.brand_access_by_slug(current_user, slug, need=need)
            if admins_write and request.method not in SAFE_METHODS and not access.is_admin:
                abort(403)
            return view(access=access, **kwargs)

        return guarded

    return decorate


# (endpoint, label, who may open it); the endpoints belong to several domains, so they are names only.
TABS = (
    ("console.dashboard", _l("Dashboard"), BrandRole.VIEWER),
    ("capacity.plan", _l("Planning"), BrandRole.VIEWER),
    ("console.live", _l("Live"), BrandRole.VIEWER),
    ("console.conversations", _l("Conversations"), BrandRole.VIEWER),
    ("left_messages.inbox", _l("Inbox"), BrandRole.VIEWER),
    ("ratings.brand_page", _l("Ratings"), BrandRole.VIEWER),
    ("contacts.contacts_list", _l("Contacts"), BrandRole.VIEWER),
    ("experts.applicants", _l("Experts"), BrandRole.VIEWER),
    ("shifts.brand_slots", _l("Shifts"), BrandRole.VIEWER),
    ("brands.program", _l("Program"), BrandRole.VIEWER),
    ("brands.rates", _l("Rate card"), BrandRole.VIEWER),
    ("console.caps", _l("Caps"), BrandRole.VIEWER),
    ("console.widget_settings", _l("Widget"), BrandRole.VIEWER),
    ("channel_console.channels", _l("Messaging apps"), BrandRole.VIEWER),
    ("faq_console.page", _l("FAQ bot"), BrandRole.VIEWER),
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
