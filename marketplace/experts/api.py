"""JSON API for experts (profile, payout details, enrolments, quizzes, presence), vetting, brand applicants."""

from __future__ import annotations

from flask import current_app, request

from marketplace.accounts.models import Role
from marketplace.experts import enrolments, presence, quiz_attempts, services, vetting
from marketplace.experts.models import EnrolmentStatus, ExpertStatus
from marketplace.experts.schemas import (
    ApplicantWithStatsSchema,
    ApplicationSchema,
    ApplySchema,
    DecisionSchema,
    EnrolmentSchema,
    EnrolmentStatusQuery,
    ExpertDecisionSchema,
    ExpertProfileSchema,
    ExpertProfileUpdateSchema,
    ExpertStatusQuery,
    FullPayoutDetailsSchema,
    PayoutDetailsSchema,
    PayoutDetailsUpdateSchema,
    PresenceSchema,
    PresenceUpdateSchema,
    QuizAnswersSchema,
    QuizResultSchema,
    QuizViewSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("experts_api", __name__)
EXPERT = [Role.EXPERT]


@blueprint.get("/experts/me")
@endpoint("The calling expert's profile", roles=EXPERT, response=ExpertProfileSchema(), tags=["experts"])
def own_profile(actor):
    return services.own_profile(actor)


@blueprint.patch("/experts/me")
@endpoint("Change the calling expert's profile", roles=EXPERT, body=ExpertProfileUpdateSchema(),
          response=ExpertProfileSchema(), tags=["experts"])
def update_own_profile(actor, body):
    return services.update_own_profile(actor, body)


@blueprint.post("/experts/me/resubmission")
@endpoint("Correct a rejected application and send it back to the vetting queue (the body's fields, all "
          "optional, change the profile first; every bad one is named at once)", roles=EXPERT,
          body=ExpertProfileUpdateSchema(), response=ExpertProfileSchema(), tags=["experts", "vetting"], errors=[409])
def resubmit(actor, body):
    return vetting.resubmit(actor, body, ip=request.remote_addr)


@blueprint.get("/experts/me/payout-details")
@endpoint("The calling expert's payout details, masked", roles=EXPERT, response=PayoutDetailsSchema(),
          tags=["experts", "payouts"])
def own_payout_details(actor):
    return services.payout_summary(actor)


@blueprint.put("/experts/me/payout-details")
@endpoint("Set where the calling expert is paid (IBAN checked, stored sealed)", roles=EXPERT,
          body=PayoutDetailsUpdateSchema(), response=PayoutDetailsSchema(), tags=["experts", "payouts"])
def set_payout_details(actor, body):
    return services.set_payout_details(actor, body["account_holder"], body["iban"], body.get("bic"),
                                       ip=request.remote_addr)


@blueprint.get("/experts/<int:expert_id>/payout-details")
@endpoint("An expert's full payout details (finance, or the expert); every read is audited",
          roles=[Role.FINANCE, Role.EXPERT], response=FullPayoutDetailsSchema(), tags=["experts", "payouts"])
def read_payout_details(actor, expert_id: int):
    return services.read_payout_details(actor, expert_id, ip=request.remote_addr)


@blueprint.get("/experts/me/enrolments")
@endpoint("The calling expert's enrolments with brands", roles=EXPERT, response=EnrolmentSchema(many=True),
          tags=["enrolment"])
def own_enrolments(actor):
    return enrolments.own_enrolments(actor)


@blueprint.post("/experts/me/enrolments")
@endpoint("Apply to one or several brands", roles=EXPERT, body=ApplySchema(), response=EnrolmentSchema(many=True),
          status=201, tags=["enrolment"], errors=[409])
def apply(actor, body):
    return enrolments.apply_to_brands(actor, body["brand_ids"], ip=request.remote_addr)


# `with_brand`, not `brand_id`: brand_id paths are guarded for the brand's own people (brands/__init__.py).
@blueprint.post("/experts/me/enrolments/<int:with_brand>/quiz-attempts")
@endpoint("Begin (or resume) an attempt at a brand's quiz; answers are never sent", roles=EXPERT,
          response=QuizViewSchema(), status=201, tags=["enrolment"], errors=[409])
def start_quiz(actor, with_brand: int):
    return quiz_attempts.start_quiz(actor, with_brand)


@blueprint.post("/experts/me/enrolments/<int:with_brand>/quiz-attempts/<int:attempt_id>")
@endpoint("Submit an attempt's answers ({question id: choice id})", roles=EXPERT, body=QuizAnswersSchema(),
          response=QuizResultSchema(), tags=["enrolment"], errors=[409])
def submit_quiz(actor, with_brand: int, attempt_id: int, body):
    return quiz_attempts.submit_quiz(actor, with_brand, attempt_id, body["answers"], ip=request.remote_addr)


@blueprint.get("/experts/me/presence")
@endpoint("The calling expert's presence", roles=EXPERT, response=PresenceSchema(), tags=["presence"])
def own_presence(actor):
    return presence.presence_of(services.own_profile(actor).id)


@blueprint.put("/experts/me/presence")
@endpoint("Go online (available), pause new chats while staying online (away), or go offline", roles=EXPERT,
          body=PresenceUpdateSchema(), response=PresenceSchema(), tags=["presence"])
def set_presence(actor, body):
    change = {"available": presence.go_online, "away": presence.pause, "offline": presence.go_offline}
    return change[body["status"]](actor)


@blueprint.get("/experts")
@endpoint("The vetting queue (ops), longest waiting first; ?status=applied|approved|rejected|suspended|all. "
          "A resubmitted application has `profile.resubmitted`", roles=[Role.OPS],
          query=ExpertStatusQuery(), response=ApplicationSchema(many=True), tags=["vetting"])
def list_applications(actor, query):
    status = None if query["status"] == "all" else ExpertStatus(query["status"])
    return vetting.list_applications(actor, status)


@blueprint.get("/experts/<int:expert_id>")
@endpoint("One expert's application (ops)", roles=[Role.OPS], response=ApplicationSchema(), tags=["vetting"])
def get_application(actor, expert_id: int):
    return vetting.get_application(actor, expert_id)


@blueprint.post("/experts/<int:expert_id>/decisions")
@endpoint("Approve, reject, suspend or reinstate an expert, with a reason (ops); a rejection may name the "
          "profile fields to correct", roles=[Role.OPS], body=ExpertDecisionSchema(), response=ExpertProfileSchema(),
          tags=["vetting"], errors=[409])
def decide(actor, expert_id: int, body):
    return vetting.decide(actor, expert_id, body["action"], body["reason"], fields=body["field_names"],
                          ip=request.remote_addr)


@blueprint.get("/brands/<int:brand_id>/enrolments")
@endpoint("The brand's applicants and approved experts (its members, ops), with each approved expert's "
          "figures over ?period=30d|all", roles=[Role.OPS, Role.BRAND], query=EnrolmentStatusQuery(),
          response=ApplicantWithStatsSchema(many=True), tags=["enrolment", "brands"])
def list_applicants(actor, brand_id: int, query):
    status = EnrolmentStatus(query["status"]) if "status" in query else None
    applicants = enrolments.list_applicants(actor, brand_id, status)
    # The figures come from routing, a layer above this one, through the provider it registered.
    provider = current_app.extensions.get("expert_stats")
    approved = {a.profile.id for a in applicants if a.enrolment.status == EnrolmentStatus.APPROVED}
    stats = provider(actor, brand_id, approved, days=None if query["period"] == "all" else 30) if provider else {}
    return [{**vars(a), "stats": stats.get(a.profile.id)} for a in applicants]


@blueprint.post("/brands/<int:brand_id>/enrolments/<int:enrolment_id>/decisions")
@endpoint("Approve or reject an applicant, with a reason (the brand's admins, ops)", roles=[Role.OPS, Role.BRAND],
          body=DecisionSchema(), response=EnrolmentSchema(), tags=["enrolment", "brands"], errors=[409])
def decide_enrolment(actor, brand_id: int, enrolment_id: int, body):
    return enrolments.decide_enrolment(actor, brand_id, enrolment_id, body["action"], body["reason"],
                                       ip=request.remote_addr)
