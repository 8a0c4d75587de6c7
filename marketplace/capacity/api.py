"""The planner's JSON API: a brand's plan and decisions, the expert's invitations and demand map."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.capacity import planning, pool
from marketplace.capacity.schemas import (
    AnsweredCapacityInvitationSchema,
    CapacityInvitationSchema,
    DemandBrandSchema,
    OpenedSlotSchema,
    PlanQuery,
    PlanSchema,
    ScalingDecisionSchema,
)
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.web.api import api_blueprint, endpoint

api = api_blueprint("capacity_api", __name__)
STAFF = [Role.OPS, Role.BRAND, Role.FINANCE]


@api.get("/brands/<int:brand_id>/plan")
@endpoint("The brand's plan for one local day: forecast and actual arrivals, experts required, booked and "
          "online, per quarter hour", roles=STAFF, query=PlanQuery(), response=PlanSchema(), tags=["capacity"])
def plan(actor, brand_id: int, query):
    brand = brands.get_brand(actor, brand_id)
    now = utcnow()
    day = query["day"] or clock.local_day(now, brand.timezone)
    return planning.brand_plan(actor, brand_id, day, now)


@api.get("/brands/<int:brand_id>/scaling-decisions")
@endpoint("The brand's latest scaling decisions, newest first, each with its reason", roles=STAFF,
          response=ScalingDecisionSchema(many=True), tags=["capacity"])
def decisions(actor, brand_id: int):
    return pool.recent_decisions(actor, brand_id)


@api.post("/brands/<int:brand_id>/open-shifts")
@endpoint("Open shifts now for the coming days' quarters that booked seats do not cover (admins; the "
          "scheduler does it every hour)", roles=[Role.OPS, Role.BRAND], response=OpenedSlotSchema(many=True),
          status=201, tags=["capacity"])
def open_shifts(actor, brand_id: int):
    return planning.open_shifts_for_gaps(actor, brand_id)


@api.get("/experts/me/invitations")
@endpoint("The calling expert's open invitations to come online, and accepted ones still running",
          roles=[Role.EXPERT], response=CapacityInvitationSchema(many=True), tags=["capacity"])
def invitations(actor):
    return pool.own_invitations(actor)


@api.post("/experts/me/invitations/<int:invitation_id>/accept")
@endpoint("Accept an invitation: a seat from now for its window, and online at once", roles=[Role.EXPERT],
          response=AnsweredCapacityInvitationSchema(), tags=["capacity"], errors=[409])
def accept(actor, invitation_id: int):
    return pool.accept_invitation(actor, invitation_id)


@api.post("/experts/me/invitations/<int:invitation_id>/decline")
@endpoint("Decline an invitation", roles=[Role.EXPERT], response=AnsweredCapacityInvitationSchema(), tags=["capacity"],
          errors=[409])
def decline(actor, invitation_id: int):
    return pool.decline_invitation(actor, invitation_id)


@api.get("/experts/me/demand")
@endpoint("Where demand is this week: per brand that approved the expert, the experts still wanted each hour",
          roles=[Role.EXPERT], response=DemandBrandSchema(many=True), tags=["capacity"])
def demand(actor):
    return planning.demand_for_expert(actor)
