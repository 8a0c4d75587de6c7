"""What the planner's API answers: plans, decisions, invitations, the experts' demand map."""

from __future__ import annotations

from marshmallow import fields

from marketplace.capacity import reasons
from marketplace.web.schemas import Schema


class PlanQuery(Schema):
    day = fields.Date(load_default=None, metadata={"description": "A local day of the brand; today by default."})


class QuarterSchema(Schema):
    start = fields.AwareDateTime(attribute="starts_at", dump_only=True)
    forecast = fields.Float(dump_only=True, metadata={"description": "Expected arrivals in the quarter hour."})
    actual = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: not begun yet"})
    required = fields.Integer(dump_only=True, metadata={
        "description": "Experts the service level needs for the forecast (Erlang C)."})
    planned = fields.Integer(dump_only=True, metadata={"description": "required, within what the caps can use"})
    booked = fields.Integer(dump_only=True, metadata={"description": "Seats booked in shifts."})
    online = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: not begun yet"})
    gap = fields.Integer(dump_only=True, metadata={"description": "planned minus the booked seats (or online)"})


class ForecastSchema(Schema):
    method = fields.String(dump_only=True)
    computed_at = fields.AwareDateTime(dump_only=True)
    wape = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "Backtest: Σ|actual − forecast| / Σ actual; null without data to test on."})
    bias = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "Backtest: Σ(forecast − actual) / Σ actual; positive means over-forecast."})
    history_days = fields.Integer(dump_only=True)
    reason = fields.Function(reasons.forecast_reason, dump_only=True, metadata={
        "description": "How the forecast is made, in the request's language."})
    reason_code = fields.Function(lambda forecast: reasons.forecast_reason_code(forecast)[0], dump_only=True, metadata={
        "description": "no_history, few_days, untested, nothing_to_test, holt_winters or average."})
    reason_params = fields.Function(lambda forecast: reasons.forecast_reason_code(forecast)[1], dump_only=True,
                                    metadata={"description": "The figures `reason` is written from."})


class AutomationSchema(Schema):
    resolved = fields.Integer(dump_only=True, metadata={
        "description": "Conversations the FAQ bot resolved (no person was needed) since `since`."})
    conversations = fields.Integer(dump_only=True, metadata={
        "description": "All of the brand's conversations since `since`, refused ones and the bot's included."})
    share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "resolved / conversations, 0 to 1; null without a conversation."})
    since = fields.AwareDateTime(dump_only=True, metadata={"description": "The start of the history window."})


class PlanSchema(Schema):
    brand_id = fields.Function(lambda plan: plan.brand.id, dump_only=True)
    day = fields.Date(dump_only=True)
    timezone = fields.Function(lambda plan: plan.brand.timezone, dump_only=True)
    handle_s = fields.Float(dump_only=True, metadata={"description": "Mean handle time the plan uses, seconds."})
    concurrency = fields.Integer(dump_only=True, metadata={"description": "Chats an expert holds at once."})
    expected_arrivals = fields.Float(dump_only=True)
    peak_required = fields.Integer(dump_only=True)
    forecast = fields.Nested(ForecastSchema, dump_only=True, allow_none=True)
    quarters = fields.List(fields.Nested(QuarterSchema), dump_only=True)
    automation = fields.Nested(AutomationSchema, dump_only=True, allow_none=True, metadata={
        "description": "The FAQ bot's measured automation: the forecast counts only the conversations that reached "
                       "a person (or were refused at the door), net of those the bot resolved or still has."})


class ScalingDecisionSchema(Schema):
    decided_at = fields.AwareDateTime(dump_only=True)
    desired = fields.Integer(dump_only=True)
    online = fields.Integer(dump_only=True)
    pending = fields.Integer(dump_only=True, metadata={"description": "Invitations not answered yet."})
    acceptance = fields.Float(dump_only=True, metadata={"description": "Measured share of invitations accepted."})
    invited = fields.Integer(dump_only=True)
    released = fields.Integer(dump_only=True)
    reason = fields.Function(reasons.decision_reason, dump_only=True, metadata={
        "description": "Why, in the request's language."})
    reason_code = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "invite, enough, surplus_waiting, surplus_recent or release; null for decisions recorded "
                       "before codes (their `reason` is in English)."})
    reason_params = fields.Dict(dump_only=True, metadata={
        "description": "The figures `reason` is written from: online, pending, desired, acceptance, peak; where the "
                       "need came from (source: forecast or arrivals, with their count), the cap applied (cap), "
                       "and what could not be done (not_invited, not_released)."})


class CapacityInvitationSchema(Schema):
    id = fields.Function(lambda view: view.invitation.id, dump_only=True)
    brand_id = fields.Function(lambda view: view.brand.id, dump_only=True)
    brand_name = fields.Function(lambda view: view.brand.name, dump_only=True)
    status = fields.Function(lambda view: view.invitation.status.value, dump_only=True)
    created_at = fields.Function(lambda view: view.invitation.created_at.isoformat(), dump_only=True)
    expires_at = fields.Function(lambda view: view.invitation.expires_at.isoformat(), dump_only=True)
    window_minutes = fields.Function(lambda view: view.invitation.window_minutes, dump_only=True)


class AnsweredCapacityInvitationSchema(Schema):
    id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    answered_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    window_minutes = fields.Integer(dump_only=True)


class DemandCellSchema(Schema):
    starts_at = fields.AwareDateTime(dump_only=True)
    wanted = fields.Integer(dump_only=True, metadata={"description": "Experts still wanted (need above seats)."})


class DemandBrandSchema(Schema):
    brand_id = fields.Function(lambda row: row.brand.id, dump_only=True)
    brand_name = fields.Function(lambda row: row.brand.name, dump_only=True)
    timezone = fields.Function(lambda row: row.brand.timezone, dump_only=True)
    hours = fields.List(fields.Nested(DemandCellSchema), dump_only=True)


class OpenedSlotSchema(Schema):
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    headcount = fields.Integer(dump_only=True)


class NetworkQuarterSchema(Schema):
    start = fields.AwareDateTime(attribute="starts_at", dump_only=True)
    forecast = fields.Float(dump_only=True)
    actual = fields.Integer(dump_only=True, allow_none=True)
    planned = fields.Integer(dump_only=True)
    booked = fields.Integer(dump_only=True)
    online = fields.Integer(dump_only=True, allow_none=True)
