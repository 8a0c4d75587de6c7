"""JSON API for brands: the brands a caller may see, their settings, members and API tokens."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.brands import opening, quizzes, rates, services
from marketplace.brands.models import BrandRole
from marketplace.brands.schemas import (
    ApiTokenCreateSchema,
    ApiTokenSchema,
    BrandCreateSchema,
    BrandSchema,
    BrandUpdateSchema,
    ClosedDaySchema,
    ClosureSchema,
    IssuedTokenSchema,
    MemberSchema,
    QuizSchema,
    QuizUpdateSchema,
    RateCardCreateSchema,
    RateCardSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("brands_api", __name__)
STAFF_AND_BRANDS = [Role.OPS, Role.FINANCE, Role.BRAND]


@blueprint.get("/brands")
@endpoint("Brands the caller may see", roles=STAFF_AND_BRANDS, response=BrandSchema(many=True), tags=["brands"])
def list_brands(actor):
    return services.visible_brands(actor)


@blueprint.post("/brands")
@endpoint("Open a brand", roles=[Role.OPS], body=BrandCreateSchema(), response=BrandSchema(), status=201,
          tags=["brands"], errors=[409])
def create_brand(actor, body):
    return services.create_brand(actor, body["name"], slug=body.get("slug"), timezone=body["timezone"],
                                 currency=body["currency"])


@blueprint.get("/brands/<int:brand_id>")
@endpoint("One brand", roles=STAFF_AND_BRANDS, response=BrandSchema(), tags=["brands"])
def get_brand(actor, brand_id: int):
    return services.get_brand(actor, brand_id)


@blueprint.patch("/brands/<int:brand_id>")
@endpoint("Change a brand's settings (its admins, ops)", roles=[Role.OPS, Role.BRAND], body=BrandUpdateSchema(),
          response=BrandSchema(), tags=["brands"])
def update_brand(actor, brand_id: int, body):
    return services.update_brand(actor, brand_id, body)


@blueprint.get("/brands/<int:brand_id>/members")
@endpoint("A brand's members", roles=STAFF_AND_BRANDS, response=MemberSchema(many=True), tags=["brands"])
def list_members(actor, brand_id: int):
    return services.list_members(actor, brand_id)


@blueprint.get("/brands/<int:brand_id>/tokens")
@endpoint("A brand's API tokens (its admins, ops)", roles=[Role.OPS, Role.BRAND],
          response=ApiTokenSchema(many=True), tags=["brands"])
def list_tokens(actor, brand_id: int):
    return services.list_api_tokens(actor, brand_id)


@blueprint.post("/brands/<int:brand_id>/tokens")
@endpoint("Create an API token; its secret is in this answer only", roles=[Role.OPS, Role.BRAND],
          body=ApiTokenCreateSchema(), response=IssuedTokenSchema(), status=201, tags=["brands"])
def create_token(actor, brand_id: int, body):
    return services.issue_api_token(actor, brand_id, body["name"], BrandRole(body["role"]), ip=request.remote_addr)


@blueprint.delete("/brands/<int:brand_id>/tokens/<int:token_id>")
@endpoint("Revoke an API token", roles=[Role.OPS, Role.BRAND], response=ApiTokenSchema(), tags=["brands"])
def revoke_token(actor, brand_id: int, token_id: int):
    return services.revoke_api_token(actor, brand_id, token_id, ip=request.remote_addr)


@blueprint.get("/brands/<int:brand_id>/quiz")
@endpoint("The brand's product quiz with its answers (its people); no questions when it has none",
          roles=STAFF_AND_BRANDS, response=QuizSchema(), tags=["brands", "enrolment"])
def get_quiz(actor, brand_id: int):
    return quizzes.get_quiz(actor, brand_id)


@blueprint.put("/brands/<int:brand_id>/quiz")
@endpoint("Replace the brand's product quiz (its admins, ops)", roles=[Role.OPS, Role.BRAND],
          body=QuizUpdateSchema(), response=QuizSchema(), tags=["brands", "enrolment"])
def set_quiz(actor, brand_id: int, body):
    return quizzes.set_quiz(actor, brand_id, questions=body["questions"],
                            pass_mark_percent=body["pass_mark_percent"], max_attempts=body["max_attempts"],
                            cooldown_hours=body["cooldown_hours"])


@blueprint.get("/brands/<int:brand_id>/rates")
@endpoint("The brand's rate cards, newest start first, each with its state", roles=STAFF_AND_BRANDS,
          response=RateCardSchema(many=True), tags=["brands", "rates"])
def list_rates(actor, brand_id: int):
    return rates.rate_history(actor, brand_id)


@blueprint.post("/brands/<int:brand_id>/rates")
@endpoint("Schedule a new price from a day on (admins; the commission only by ops); past chats keep theirs",
          roles=[Role.OPS, Role.BRAND], body=RateCardCreateSchema(), response=RateCardSchema(), status=201,
          tags=["brands", "rates"])
def schedule_rate(actor, brand_id: int, body):
    card = rates.schedule_rate(actor, brand_id, **body)
    return next(view for view in rates.rate_history(actor, brand_id) if view.card.id == card.id)


@blueprint.delete("/brands/<int:brand_id>/rates/<int:card_id>")
@endpoint("Cancel a rate not yet in effect (admins)", roles=[Role.OPS, Role.BRAND], response=RateCardSchema(),
          tags=["brands", "rates"], errors=[409])
def cancel_rate(actor, brand_id: int, card_id: int):
    rates.cancel_rate(actor, brand_id, card_id)
    return next(view for view in rates.rate_history(actor, brand_id) if view.card.id == card_id)


@blueprint.get("/brands/<int:brand_id>/closed-days")
@endpoint("Days the brand takes no chat in the coming year: public holidays and one-off closures",
          roles=STAFF_AND_BRANDS, response=ClosedDaySchema(many=True), tags=["brands"])
def closed_days(actor, brand_id: int):
    return opening.closed_days(actor, brand_id)


@blueprint.post("/brands/<int:brand_id>/closures")
@endpoint("Close the brand for a whole day, today or later (admins)", roles=[Role.OPS, Role.BRAND],
          body=ClosureSchema(), response=ClosureSchema(), status=201, tags=["brands"], errors=[409])
def add_closure(actor, brand_id: int, body):
    return opening.add_closure(actor, brand_id, body["day"], body["reason"])


@blueprint.delete("/brands/<int:brand_id>/closures/<int:closure_id>")
@endpoint("Remove a one-off closure (admins)", roles=[Role.OPS, Role.BRAND], status=204, tags=["brands"])
def remove_closure(actor, brand_id: int, closure_id: int):
    opening.remove_closure(actor, brand_id, closure_id)
