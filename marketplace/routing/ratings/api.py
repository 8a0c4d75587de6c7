"""JSON calls for the expert's side of a rating: contest it or report the visitor; the brand lists and decides."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.experts import services as experts
from marketplace.routing.ratings import services as ratings
from marketplace.routing.ratings.schemas import (
    RatingContestCreateSchema,
    RatingContestDecisionSchema,
    RatingContestListQuery,
    RatingContestSchema,
    VisitorReportCreateSchema,
    VisitorReportSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("ratings_api", __name__)
EXPERT = [Role.EXPERT]
BRAND = [Role.OPS, Role.BRAND]
TAGS = ["ratings"]


def _expert_id(actor) -> int:
    return experts.own_profile(actor).id


@blueprint.post("/experts/me/conversations/<int:conversation_id>/rating-contest")
@endpoint("Contest the visitor's rating of a chat the expert answered, once, with a written reason", roles=EXPERT,
          body=RatingContestCreateSchema(), response=RatingContestSchema(), status=201, tags=TAGS, errors=[409])
def contest(actor, conversation_id: int, body):
    return ratings.contest_rating(_expert_id(actor), conversation_id, body["reason"])


@blueprint.post("/experts/me/conversations/<int:conversation_id>/visitor-report")
@endpoint("Report the visitor of a chat the expert answered as abusive, once; the brand sees it", roles=EXPERT,
          body=VisitorReportCreateSchema(), response=VisitorReportSchema(), status=201, tags=TAGS, errors=[409])
def report(actor, conversation_id: int, body):
    return ratings.report_visitor(_expert_id(actor), conversation_id, body["reason"], body["comment"])


@blueprint.get("/experts/me/rating-contests")
@endpoint("The expert's contests of ratings, newest first, with the brands' answers", roles=EXPERT,
          response=RatingContestSchema(many=True), tags=TAGS)
def my_contests(actor):
    return ratings.expert_contests(_expert_id(actor))


@blueprint.get("/experts/me/visitor-reports")
@endpoint("The expert's reports of abusive visitors, newest first", roles=EXPERT,
          response=VisitorReportSchema(many=True), tags=TAGS)
def my_reports(actor):
    return ratings.expert_reports(_expert_id(actor))


@blueprint.get("/brands/<int:brand_id>/rating-contests")
@endpoint("Experts' contests of the brand's ratings, pending first (?status= to narrow)", roles=BRAND,
          query=RatingContestListQuery(), response=RatingContestSchema(many=True), tags=TAGS)
def contests(actor, brand_id: int, query):
    return ratings.brand_contests(actor, brand_id, query.get("status"))


@blueprint.post("/brands/<int:brand_id>/rating-contests/<int:contest_id>/decision")
@endpoint("Keep or remove a contested rating, once, with a written answer (admins); a removed one counts nowhere",
          roles=BRAND, body=RatingContestDecisionSchema(), response=RatingContestSchema(), tags=TAGS, errors=[409])
def decide(actor, brand_id: int, contest_id: int, body):
    return ratings.decide_contest(actor, brand_id, contest_id, body["decision"], body["answer"])


@blueprint.get("/brands/<int:brand_id>/visitor-reports")
@endpoint("Experts' reports of the brand's abusive visitors, newest first", roles=BRAND,
          response=VisitorReportSchema(many=True), tags=TAGS)
def reports(actor, brand_id: int):
    return ratings.brand_reports(actor, brand_id)
