"""The planner's reasons in the reader's language.

A scaling decision is stored with a reason code and its figures (`reason_code`, `reason_params`); a forecast
keeps the figures its reason is made of (its method, days of history, backtest). Both are put in words here,
when a page or the API shows them, so a French reader reads French and an English one English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_percent, gettext, ngettext
from flask_babel import lazy_gettext as _l

from marketplace.capacity.models import BrandForecast, ScalingDecision
from marketplace.core import forecast as forecasting

# What the scaling loop decided (core.scaling.decide's codes).
DECISIONS = {
    "invite": _l("%(online)d online and %(pending)d invited for %(desired)d needed (acceptance %(acceptance)s)"),
    "enough": _l("%(online)d online for %(desired)d needed"),
    "surplus_waiting": _l("%(online)d online for %(desired)d needed: waiting for 15 minutes of surplus"),
    "surplus_recent": _l("%(online)d online: %(peak)d were needed within the last 15 minutes"),
    "release": _l("%(online)d online, at most %(peak)d needed for 15 minutes"),
}
# Where the need came from, and what the loop could not do.
NEED_FROM_FORECAST = _l("need from the forecast")
NEED_FROM_ARRIVALS = _l("need from the last 15 minutes' %(arrivals)d arrivals")
CAPPED = _l("capped at %(cap)d by the brand's caps")
NOBODY_TO_INVITE = _l("%(count)d more wanted, nobody else to invite")
NOBODY_TO_RELEASE = _l("%(count)d fewer wanted, nobody releasable")
AND_THEN = _l("%(first)s; %(then)s")

# How a forecast is made (the codes of `forecast_reason_code`).
FORECASTS = {
    "no_history": _l("No conversations yet: the forecast is zero until the first chats arrive."),
    "few_days": _l("%(seen)s: the average of all days so far, too few to tell weekdays apart."),
    "untested": _l("%(seen)s: %(average)s. Testing it against past days needs 21 days of history."),
    "nothing_to_test": _l("%(seen)s: %(average)s. There were no chats in the last %(days)s days to test it against."),
    "holt_winters": _l("%(seen)s: Holt-Winters, which follows the trend of daily totals, was off by %(wape)s of "
                       "arrivals over the last %(days)s days, against %(other)s for %(average)s."),
    "average": _l("%(seen)s: %(average)s, off by %(wape)s of arrivals over the last %(days)s days; Holt-Winters "
                  "was not clearly better (%(other)s)."),
}


def decision_reason(decision: ScalingDecision) -> str:
    """Why the loop did what it did, in the reader's language (old decisions: the English words they kept)."""
    if decision.reason_code is None:
        return decision.reason or ""
    return decision_text(decision.reason_code, decision.reason_params or {})


def decision_text(code: str, params: Mapping[str, Any]) -> str:
    """A decision's reason code and figures in words: what was decided, then where the need came from."""
    values = dict(params)
    if "acceptance" in values:
        values["acceptance"] = format_percent(values["acceptance"])
    template = DECISIONS.get(code)
    parts = [template % values if template is not None else code]
    if params.get("source") == "arrivals":
        parts.append(NEED_FROM_ARRIVALS % values)
    elif params.get("source") == "forecast":
        parts.append(str(NEED_FROM_FORECAST))
    if params.get("cap") is not None:
        parts.append(CAPPED % values)
    if params.get("not_invited"):
        parts.append(NOBODY_TO_INVITE % {"count": params["not_invited"]})
    if params.get("not_released"):
        parts.append(NOBODY_TO_RELEASE % {"count": params["not_released"]})
    text = parts[0]
    for part in parts[1:]:
        text = AND_THEN % {"first": text, "then": part}
    return text


def forecast_reason_code(forecast: BrandForecast) -> tuple[str, dict[str, Any]]:
    """How the forecast was made, as a code and its figures, from what the forecast row keeps."""
    days = forecast.history_days
    if days == 0:
        return "no_history", {}
    if days < forecasting.MIN_DAYS_FOR_WEEKDAYS:
        return "few_days", {"history_days": days}
    params: dict[str, Any] = {"history_days": days, "weeks": min(forecasting.WEEKS_AVERAGED, days // 7)}
    backtest = forecast.backtest or {}
    average = backtest.get(forecasting.SAME_WEEKDAY_AVERAGE)
    smoothing = backtest.get(forecasting.HOLT_WINTERS)
    if not average or not smoothing:
        return "untested", params
    params["days"] = average["days"]
    if average["wape"] is None or smoothing["wape"] is None:
        return "nothing_to_test", params
    if forecast.method == forecasting.HOLT_WINTERS:
        return "holt_winters", {**params, "wape": smoothing["wape"], "other": average["wape"]}
    return "average", {**params, "wape": average["wape"], "other": smoothing["wape"]}


def forecast_text(code: str, params: Mapping[str, Any]) -> str:
    """A forecast's reason code and figures in words, in the reader's language."""
    values = dict(params)
    if "history_days" in params:
        days = params["history_days"]
        values["seen"] = ngettext("%(num)d day of history", "%(num)d days of history", days)
    if "weeks" in params:
        weeks = params["weeks"]
        values["average"] = (gettext("the average of the same weekday over the last %(num)d weeks", num=weeks)
                             if weeks > 1 else gettext("the average of the same weekday over the last week"))
    for share in ("wape", "other"):
        if share in params:
            values[share] = format_percent(params[share])
    template = FORECASTS.get(code)
    return template % values if template is not None else code


def forecast_reason(forecast: BrandForecast) -> str:
    """How the forecast is made, in the reader's language."""
    return forecast_text(*forecast_reason_code(forecast))
