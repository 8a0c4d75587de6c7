"""The expert's demand map: per brand, the next seven days on its clock as columns, its hours as rows, each
hour shaded by how many experts the brand is still short of (planning.demand_for_expert's figures)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from marketplace.brands.models import Brand
from marketplace.capacity import planning
from marketplace.core import clock

HEAT_SHADES = (1, 2, 3, 5, 8)  # the fewest experts short for shades 1 to 5; shade 0 is an hour covered


def heat_shade(wanted: int) -> int:
    return sum(wanted >= least for least in HEAT_SHADES)


def heat_legend() -> list[tuple[int, str]]:
    """Each shade and the experts short it stands for: "1", "3–4", "8+"."""
    return [(shade, str(least) if nxt == least + 1 else f"{least}–{nxt - 1}" if nxt else f"{least}+")
            for shade, (least, nxt) in enumerate(itertools.pairwise([*HEAT_SHADES, None]), start=1)]


@dataclass(frozen=True)
class HeatCell:
    day: dt.date
    wanted: int | None  # None: an hour already past, or one the clock skips when it springs forward
    past: bool
    now: bool

    @property
    def shade(self) -> int | None:
        return None if self.wanted is None else heat_shade(self.wanted)


@dataclass(frozen=True)
class HeatRow:
    hour: int  # 0-23 on the brand's clock
    cells: list[HeatCell]  # one per day

    @property
    def now(self) -> bool:
        return any(cell.now for cell in self.cells)


@dataclass(frozen=True)
class HeatMap:
    brand: Brand
    today: dt.date
    days: list[dt.date]
    rows: list[HeatRow]  # the hours from the first to the last one short of experts this week; none if none is


def heat_map(row: planning.DemandRow, now: dt.datetime, days: int = 7) -> HeatMap:
    """Lay a brand's hours out as days by hours on its clock, from the first to the last hour it is short."""
    zone = clock.zone(row.brand.timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    dates = [today + dt.timedelta(days=offset) for offset in range(days)]
    wanted: dict[tuple[dt.date, int], int] = {}
    for cell in row.hours:
        local = cell.starts_at.astimezone(zone)
        key = (local.date(), local.hour)
        wanted[key] = max(wanted.get(key, 0), cell.wanted)  # the hour a clock going back repeats: its worse half
    short = sorted({hour for (day, hour), count in wanted.items() if count > 0 and day in dates})
    hours = range(short[0], short[-1] + 1) if short else range(0)
    rows = [HeatRow(hour, [HeatCell(day, wanted.get((day, hour)), day == today and hour < local_now.hour,
                                    day == today and hour == local_now.hour) for day in dates])
            for hour in hours]
    return HeatMap(row.brand, today, dates, rows)
