"""The brand's live dashboard: the page and its JSON figures."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import format_percent
from flask_login import current_user
from marshmallow import fields

from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.routing import dashboard
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.roles import role_required
from marketplace.web.schemas import Schema

blueprint = Blueprint("dashboard", __name__)
api = api_blueprint("dashboard_api", __name__)


class ServiceLevelSchema(Schema):
    within = fields.Integer(dump_only=True, metadata={
        "description": "Today's let-in chats whose first expert reply came within target_seconds of arrival."})
    decided = fields.Integer(dump_only=True, metadata={
        "description": "Today's let-in chats answered, waiting past the target, or ended unanswered."})
    share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "within / decided, 0 to 1; null when nothing is decided yet."})
    met = fields.Boolean(dump_only=True, allow_none=True)
    target_percent = fields.Integer(dump_only=True)
    target_seconds = fields.Integer(dump_only=True)


class RatingSchema(Schema):
    average = fields.Float(dump_only=True, allow_none=True, metadata={"description": "1 to 5; null: no rating"})
    count = fields.Integer(dump_only=True)


class CapSchema(Schema):
    name = fields.String(dump_only=True, metadata={
        "description": "max_concurrent, max_active_experts, daily_cap or monthly_budget_cents"})
    used = fields.Integer(dump_only=True, metadata={"description": "Integer cents for monthly_budget_cents."})
    cap = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: no cap"})
    share = fields.Float(dump_only=True, allow_none=True, metadata={"description": "used / cap; null: no cap"})


class IntervalSchema(Schema):
    start = fields.AwareDateTime(dump_only=True)
    arrivals = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: not begun yet"})
    answered_within_target = fields.Integer(dump_only=True, allow_none=True)
    experts_online = fields.Integer(dump_only=True, allow_none=True)


class DashboardSchema(Schema):
    brand_id = fields.Integer(dump_only=True)
    day = fields.Date(dump_only=True, metadata={"description": "Today on the brand's clock."})
    timezone = fields.String(dump_only=True)
    currency = fields.String(dump_only=True)
    as_of = fields.AwareDateTime(dump_only=True)
    waiting = fields.Integer(dump_only=True, metadata={"description": "Waiting or being offered now."})
    active = fields.Integer(dump_only=True)
    experts_online = fields.Integer(dump_only=True, metadata={"description": "Available and approved now."})
    arrivals = fields.Integer(dump_only=True, metadata={"description": "Let in today (refusals not counted)."})
    answered = fields.Integer(dump_only=True)
    missed = fields.Integer(dump_only=True)
    abandoned = fields.Integer(dump_only=True)
    abandonment_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "abandoned / arrivals, 0 to 1"})
    refused = fields.Integer(dump_only=True)
    refusals = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True, metadata={
        "description": "Refused at the door today, by reason"})
    service_level = fields.Nested(ServiceLevelSchema, dump_only=True)
    rating = fields.Nested(RatingSchema, dump_only=True)
    caps = fields.List(fields.Nested(CapSchema), dump_only=True)
    intervals = fields.List(fields.Nested(IntervalSchema), dump_only=True, metadata={
        "description": "The brand's day in quarters of an hour (96; 92 or 100 when the clocks change)."})


@blueprint.get("/brands/<slug>/dashboard")
@role_required("brand", "ops", "finance")
def page(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    figures = dashboard.brand_dashboard(current_user, brand.id)
    return render_template("routing/dashboard.html", brand=brand, figures=figures,
                           data=DashboardSchema().dump(figures), format_percent=format_percent,
                           dashboard_url=url_for("dashboard_api.figures", brand_id=brand.id))


@api.get("/brands/<int:brand_id>/dashboard")
@endpoint("The brand's dashboard: conversations now, today's service level, refusals and use of each cap, "
          "and today by quarter of an hour", roles=[Role.OPS, Role.BRAND, Role.FINANCE],
          response=DashboardSchema(), tags=["dashboard"])
def figures(actor, brand_id: int):
    return dashboard.brand_dashboard(actor, brand_id)
