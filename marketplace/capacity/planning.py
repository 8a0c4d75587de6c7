"""Forecasts and plans: expected arrivals per quarter hour, and the experts each quarter needs.

A brand's forecast is recomputed from its conversation history (`refresh_forecast`, hourly by the
scheduler); a plan puts, for each quarter hour of one local day, the forecast beside the actual arrivals,
the experts required to meet the brand's service level (Erlang C on the brand's own handle time and chats
per expert), the experts the brand's caps let it use, the booked seats and the experts online.

The demand is human demand: conversations the brand's FAQ bot resolved, or still has, are no arrivals
(routing/history.py), so the forecast is already net of the automation measured; a plan shows that share beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import current_app

from marketplace.brands import opening
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand, BrandRole
from marketplace.capacity.models import BrandForecast
from marketplace.core import clock, staffing
from marketplace.core import forecast as forecasting
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.experts import enrolments
from marketplace.experts import services as experts
from marketplace.routing import history
from marketplace.routing.console import dashboard
from marketplace.shifts import seats as shifts
from marketplace.shifts.slots import publish_planned_slot

QUARTER = dt.timedelta(minutes=15)
HISTORY_WEEKS = 10  # 8 weeks for the average, and the days a backtest holds out
HANDLE_HISTORY = dt.timedelta(days=28)
MIN_ANSWERED_FOR_HANDLE = 20
FORECAST_MAX_AGE = dt.timedelta(hours=1)  # fewer answered chats than this and the handle time is the configured default


@dataclass(frozen=True)
class Quarter:
    starts_at: dt.datetime  # UTC
    forecast: float  # expected arrivals
    actual: int | None  # arrivals so far (None for quarters still to come)
    required: int  # experts the service level needs
    usable: int  # what the brand's caps let it use (max_active_experts, max_concurrent)
    booked: int  # seats booked in shifts
    online: int | None  # experts online for the brand (None for quarters still to come)

    @property
    def planned(self) -> int:
        return min(self.required, self.usable)

    @property
    def gap(self) -> int:
        """Experts still missing: the planned need above the booked seats (and those online, once it began)."""
        have = max(self.booked, self.online or 0)
        return max(0, self.planned - have)


@dataclass(frozen=True)
class Automation:
    """The share of the brand's conversations its FAQ bot resolved, over the history the forecast reads."""

    resolved: int
    conversations: int  # every one created since `since`, refused ones and the bot's included
    since: dt.datetime

    @property
    def share(self) -> float | None:
        return self.resolved / self.conversations if self.conversations else None


@dataclass(frozen=True)
class Plan:
    brand: Brand
    day: dt.date
    quarters: list[Quarter]
    forecast: BrandForecast | None
    handle_s: float
    concurrency: int
    automation: Automation | None = None

    @property
    def expected_arrivals(self) -> float:
        return sum(q.forecast for q in self.quarters)

    @property
    def peak_required(self) -> int:
        return max((q.planned for q in self.quarters), default=0)


def usable_experts(brand: Brand) -> int:
    """The most experts the brand's caps can put to work at once."""
    limits = [staffing.MAX_EXPERTS]
    if brand.max_active_experts is not None:
        limits.append(brand.max_active_experts)
    if brand.max_concurrent is not None:
        limits.append(math.ceil(brand.max_concurrent / brand.expert_concurrency))
    return min(limits)


def measured_handle_s(brand_id: int, now: dt.datetime) -> float:
    """The mean handle time of the brand's answered chats of the last four weeks, or the default."""
    found = history.handling(brand_id, now - HANDLE_HISTORY, now)
    if found.handle_s is None or found.answered < MIN_ANSWERED_FOR_HANDLE:
        return float(current_app.config["CAPACITY_DEFAULT_HANDLE_SECONDS"])
    return max(30.0, found.handle_s)


def measured_automation(brand_id: int, now: dt.datetime) -> Automation:
    """What the bot resolved over the forecast's history window (HISTORY_WEEKS up to now)."""
    since = now - dt.timedelta(weeks=HISTORY_WEEKS)
    resolved, conversations = history.automation_between(brand_id, since, now)
    return Automation(resolved, conversations, since)


@use_case
def refresh_forecast(brand_id: int, now: dt.datetime | None = None) -> BrandForecast:
    """Forecast the brand's next days from its history and keep it; one transaction."""
    now = now or utcnow()
    brand = brands.brands_by_id({brand_id})[brand_id]
    today = clock.local_day(now, brand.timezone)
    first = history.first_arrival_day(brand_id, brand.timezone)
    start = max(first, today - dt.timedelta(weeks=HISTORY_WEEKS)) if first else today
    past = history.arrivals_by_quarter(brand_id, brand.timezone, start, today - dt.timedelta(days=1)) \
        if start < today else {}
    made = forecasting.forecast_brand(past, today, days=current_app.config["CAPACITY_FORECAST_DAYS"])
    row = db.session.get(BrandForecast, brand_id) or BrandForecast(brand_id=brand_id)
    row.computed_at, row.first_day, row.method = now, today, made.method
    row.days = [[round(value, 4) for value in day] for day in made.arrivals]
    row.wape, row.bias, row.history_days, row.reason = made.wape, made.bias, made.history_days, made.reason
    row.backtest = {method: {"days": score.days, "wape": score.wape, "bias": score.bias}
                    for method, score in made.backtests.items()}
    row.handle_s = measured_handle_s(brand_id, now)
    db.session.add(row)
    return row


def current_forecast(brand_id: int, now: dt.datetime | None = None) -> BrandForecast:
    """The brand's forecast, recomputed first when it is older than FORECAST_MAX_AGE or begins before today."""
    now = now or utcnow()
    row = db.session.get(BrandForecast, brand_id)
    if row is not None and now - row.computed_at < FORECAST_MAX_AGE:
        brand = brands.brands_by_id({brand_id})[brand_id]
        if row.first_day == clock.local_day(now, brand.timezone):
            return row
    return refresh_forecast(brand_id, now)


def forecast_for_day(row: BrandForecast | None, day: dt.date) -> list[float]:
    """The forecast's 96 quarter hours for a local day, zeros outside the days it covers."""
    if row is None:
        return [0.0] * history.SLOTS_PER_DAY
    index = (day - row.first_day).days
    if 0 <= index < len(row.days):
        return [float(value) for value in row.days[index]]
    return [0.0] * history.SLOTS_PER_DAY


def expected_while_open(brand: Brand, row: BrandForecast | None, day: dt.date, starts: list[dt.datetime],
                        slots: list[int]) -> list[float]:
    """The forecast for each quarter of the day, 0 where the brand is closed (its refused visitors are demand,
    but no expert is needed to refuse them)."""
    by_slot = forecast_for_day(row, day)
    return [by_slot[slot] if is_open else 0.0 for slot, is_open in zip(slots, opening.open_at(brand, starts),
                                                                           strict=True)]


def wall_clock_quarters(brand: Brand, day: dt.date) -> tuple[list[dt.datetime], list[int]]:
    """The UTC start of each real quarter hour of the local day, and its wall-clock slot (0-95)."""
    start, end = clock.day_bounds(day, brand.timezone)
    zone = clock.zone(brand.timezone)
    starts, slots = [], []
    at = start
    while at < end:
        local = at.astimezone(zone)
        starts.append(at)
        slots.append((local.hour * 60 + local.minute) // 15)
        at += QUARTER
    return starts, slots


def required_by_quarter(brand: Brand, arrivals: list[float], handle_s: float) -> list[int]:
    """Experts needed per quarter hour for the brand's service level (Erlang C, its own chats per expert)."""
    plans = staffing.staff_intervals(arrivals, QUARTER.total_seconds(), handle_s, brand.expert_concurrency,
                                     min(brand.service_level_percent, 99) / 100, brand.service_level_seconds)
    return [plan.experts for plan in plans]


@use_case
def brand_plan(actor: Actor, brand_id: int, day: dt.date, now: dt.datetime | None = None) -> Plan:
    """The plan of one local day for the brand's staff (members see their brand only); its forecast is
    refreshed first when stale."""
    brand = brands.get_brand(actor, brand_id)
    now = now or utcnow()
    row = current_forecast(brand_id, now)
    handle_s = row.handle_s
    starts, slots = wall_clock_quarters(brand, day)
    expected = expected_while_open(brand, row, day, starts, slots)
    required = required_by_quarter(brand, expected, handle_s)
    actual_by_slot = history.arrivals_by_quarter(brand_id, brand.timezone, day, day)[day]
    booked = shifts.booked_by_quarter(brand_id, starts[0], len(starts))
    online = dashboard.experts_online_by_quarter(brand_id, starts[0], min(now, starts[-1] + QUARTER), len(starts))
    usable = usable_experts(brand)
    quarters = []
    for index, begins in enumerate(starts):
        begun = begins <= now
        quarters.append(Quarter(begins, expected[index], actual_by_slot[slots[index]] if begun else None,
                                required[index], usable, booked[index], len(online[index]) if begun else None))
    return Plan(brand, day, quarters, row, handle_s, brand.expert_concurrency, measured_automation(brand_id, now))




@dataclass(frozen=True)
class DemandCell:
    starts_at: dt.datetime  # UTC, the start of a local hour
    wanted: int  # experts the plan still wants in that hour, above the seats already booked


@dataclass(frozen=True)
class DemandRow:
    brand: Brand
    hours: list[DemandCell]


def _hourly_need(brand: Brand, day: dt.date, row: BrandForecast) -> list[DemandCell]:
    starts, slots = wall_clock_quarters(brand, day)
    required = required_by_quarter(brand, expected_while_open(brand, row, day, starts, slots), row.handle_s)
    booked = shifts.booked_by_quarter(brand.id, starts[0], len(starts))
    usable = usable_experts(brand)
    zone = clock.zone(brand.timezone)
    cells: dict[dt.datetime, int] = {}
    for begins, need, seats in zip(starts, required, booked, strict=True):
        hour = begins.astimezone(zone).replace(minute=0).astimezone(dt.UTC)  # the local hour it belongs to
        cells[hour] = max(cells.get(hour, 0), max(0, min(need, usable) - seats))
    return [DemandCell(at, wanted) for at, wanted in sorted(cells.items())]


@use_case
def demand_for_expert(actor, days: int = 7, now: dt.datetime | None = None) -> list[DemandRow]:
    """When, this week, each brand that approved the expert is expected to need more experts than it has booked."""
    profile = experts.own_profile(actor)
    now = now or utcnow()
    brand_ids = enrolments.approved_brand_ids(profile.id)
    rows = []
    for brand in sorted(brands.brands_by_id(brand_ids).values(), key=lambda b: b.name):
        forecast = current_forecast(brand.id, now)
        today = clock.local_day(now, brand.timezone)
        hours = [cell for offset in range(days)
                 for cell in _hourly_need(brand, today + dt.timedelta(days=offset), forecast)
                 if cell.starts_at + dt.timedelta(hours=1) > now]
        rows.append(DemandRow(brand, hours))
    return rows


# Gaps days ahead become open shifts that experts can book.

MAX_SLOT_QUARTERS = 16  # a published shift lasts at most 4 hours: longer gaps become several shifts
MIN_SLOT_QUARTERS = 4  # and at least an hour: nobody books a quarter-hour shift


@dataclass(frozen=True)
class OpenedSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    headcount: int


def gap_slots(gaps: list[int], starts: list[dt.datetime]) -> list[OpenedSlot]:
    """Cut the quarters short of experts into shifts of one to four hours, as many seats as the largest gap."""
    slots, index = [], 0
    while index < len(gaps):
        if gaps[index] <= 0:
            index += 1
            continue
        end = index
        while end < len(gaps) and gaps[end] > 0 and end - index < MAX_SLOT_QUARTERS:
            end += 1
        end = min(len(gaps), max(end, index + MIN_SLOT_QUARTERS))
        slots.append(OpenedSlot(starts[index], starts[end - 1] + QUARTER, max(gaps[index:end])))
        index = end
    return slots


@use_case
def publish_open_slots(brand_id: int, now: dt.datetime | None = None) -> list[OpenedSlot]:
    """Open shifts for the quarters of tomorrow and the next days that the booked seats do not cover.

    Seats the planner opened before count as covering, booked or not, so a gap is opened once; a shift
    that would start before the booking cut-off is not opened (the scaling loop's invitations cover those).
    """
    now = now or utcnow()
    brand = brands.brands_by_id({brand_id})[brand_id]
    row = current_forecast(brand_id, now)
    today = clock.local_day(now, brand.timezone)
    cutoff = now + dt.timedelta(minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"])
    usable = usable_experts(brand)
    opened = []
    for offset in range(1, current_app.config["CAPACITY_FORECAST_DAYS"]):
        day = today + dt.timedelta(days=offset)
        starts, slots = wall_clock_quarters(brand, day)
        required = required_by_quarter(brand, expected_while_open(brand, row, day, starts, slots), row.handle_s)
        offered = shifts.offered_by_quarter(brand_id, starts[0], len(starts))
        gaps = [min(need, usable) - seats for need, seats in zip(required, offered, strict=True)]
        for slot in gap_slots(gaps, starts):
            if slot.starts_at <= cutoff:
                continue
            publish_planned_slot(brand_id, slot.starts_at, slot.ends_at, slot.headcount, brand.planner_bonus_cents)
            opened.append(slot)
    return opened


@use_case
def open_shifts_for_gaps(actor: Actor, brand_id: int, *, bonus_cents: int | None = None,
                         now: dt.datetime | None = None) -> list[OpenedSlot]:
    """Open shifts now for the coming days' gaps (the brand's admins), first setting the bonus per seat the
    planner's shifts carry when `bonus_cents` is given: both or neither."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    if bonus_cents is not None:
        brands.update_brand(actor, brand_id, {"planner_bonus_cents": bonus_cents})
    return publish_open_slots(brand_id, now)


def publish_all_open_slots(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's hour: open shifts for every brand's gaps, one transaction per brand."""
    with unit_of_work():
        brand_ids = [brand.id for brand in brands.brand_directory()]
    return {"slots": sum(len(publish_open_slots(brand_id, now)) for brand_id in brand_ids)}


@dataclass(frozen=True)
class NetworkQuarter:
    starts_at: dt.datetime
    forecast: float = 0.0
    actual: int | None = None
    planned: int = 0
    booked: int = 0
    online: int | None = None

    @property
    def gap(self) -> int:
        return max(0, self.planned - max(self.booked, self.online or 0))


def network_plan(actor, day: dt.date, timezone: str, now: dt.datetime | None = None) -> list[NetworkQuarter]:
    """Every brand's plan added up per quarter hour of one day on the reader's clock (ops' network view)."""
    now = now or utcnow()
    start, end = clock.day_bounds(day, timezone)
    totals: dict[dt.datetime, NetworkQuarter] = {}
    at = start
    while at < end:
        totals[at] = NetworkQuarter(at)
        at += QUARTER
    for brand in brands.visible_brands(actor):
        zone = clock.zone(brand.timezone)
        for local_day in sorted({start.astimezone(zone).date(), (end - QUARTER).astimezone(zone).date()}):
            for quarter in brand_plan(actor, brand.id, local_day, now).quarters:
                total = totals.get(quarter.starts_at)
                if total is None:
                    continue
                totals[quarter.starts_at] = NetworkQuarter(
                    total.starts_at, total.forecast + quarter.forecast,
                    None if quarter.actual is None else (total.actual or 0) + quarter.actual,
                    total.planned + quarter.planned, total.booked + quarter.booked,
                    None if quarter.online is None else (total.online or 0) + quarter.online)
    return list(totals.values())
