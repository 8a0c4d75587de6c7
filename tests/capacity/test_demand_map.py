"""The expert's demand map: a week heat map per brand (days by hours, shaded by the experts short), no inline style."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest

from marketplace.accounts.models import User
from marketplace.brands.models import Brand
from marketplace.capacity import demand_map, views
from marketplace.capacity.planning import DemandCell, DemandRow
from marketplace.experts.models import EnrolmentStatus
from tests.capacity.test_planning import local_today, steady  # noqa: F401 - steady: the fixture
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), PARIS).astimezone(dt.UTC)


def demand(brand: Brand, now: dt.datetime, wanted: dict[dt.datetime, int], days: int = 7) -> DemandRow:
    """What planning.demand_for_expert gives: every local hour of the days from today not yet over."""
    today = now.astimezone(PARIS).date()
    start, end = paris(today, 0), paris(today + dt.timedelta(days=days), 0)
    hours = []
    at = start
    while at < end:
        if at + dt.timedelta(hours=1) > now:
            hours.append(DemandCell(at, wanted.get(at, 0)))
        at += dt.timedelta(hours=1)
    return DemandRow(brand, hours)


@pytest.mark.parametrize(("wanted", "shade"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (7, 4), (8, 5), (40, 5)])
def test_each_shade_stands_for_a_number_of_experts_short(wanted, shade):
    assert demand_map.heat_shade(wanted) == shade


def test_the_legend_names_what_each_shade_stands_for():
    assert demand_map.heat_legend() == [(1, "1"), (2, "2"), (3, "3–4"), (4, "5–7"), (5, "8+")]


def test_the_map_is_the_next_seven_days_by_the_hours_short_of_experts_with_today_and_now_marked():
    brand = Brand(name="Atelier", timezone="Europe/Paris")
    day = dt.date(2026, 6, 10)  # a Wednesday far from a clock change
    now = paris(day, 14, 30)
    row = demand(brand, now, {paris(day, 10): 5, paris(day, 15): 2, paris(day + dt.timedelta(days=2), 9): 1,
                              paris(day + dt.timedelta(days=6), 21): 8})
    row.hours.append(DemandCell(paris(day + dt.timedelta(days=7), 23), 3))  # beyond the week: not drawn
    found = demand_map.heat_map(row, now)
    assert found.today == day
    assert found.days == [day + dt.timedelta(days=n) for n in range(7)]
    assert [r.hour for r in found.rows] == list(range(9, 22))  # from the first hour short to the last
    by_hour = {r.hour: r for r in found.rows}
    assert [cell.day for cell in by_hour[9].cells] == found.days
    assert [cell.wanted for cell in by_hour[9].cells] == [None, 0, 1, 0, 0, 0, 0]  # today's 9:00 is over
    assert [(cell.past, cell.shade) for cell in by_hour[10].cells][:2] == [(True, None), (False, 0)]
    assert [cell.now for r in found.rows for cell in r.cells].count(True) == 1
    assert by_hour[14].now and by_hour[14].cells[0].now and by_hour[14].cells[0].shade == 0
    assert (by_hour[15].cells[0].wanted, by_hour[15].cells[0].shade, by_hour[15].cells[0].past) == (2, 2, False)
    assert (by_hour[21].cells[6].wanted, by_hour[21].cells[6].shade) == (8, 5)


def test_a_week_without_an_hour_short_has_no_rows():
    brand = Brand(name="Atelier", timezone="Europe/Paris")
    now = paris(dt.date(2026, 6, 10), 8)
    assert demand_map.heat_map(demand(brand, now, {}), now).rows == []


def test_hours_are_the_brands_own_across_clock_changes():
    brand = Brand(name="Atelier", timezone="Europe/Paris")
    # 25 October 2026: Paris goes back from 3:00 to 2:00; the repeated hour shows the worse of its two halves.
    autumn = dt.date(2026, 10, 25)
    now = paris(autumn - dt.timedelta(days=2), 12)
    first_two = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)  # 2:00 summer time
    second_two = dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)  # 2:00 winter time
    found = demand_map.heat_map(demand(brand, now, {first_two: 1, second_two: 3, paris(autumn, 4): 1}), now)
    assert [r.hour for r in found.rows] == [2, 3, 4]
    assert found.rows[0].cells[2].wanted == 3
    # 29 March 2026: Paris skips from 2:00 to 3:00; that day has no 2:00, the others do.
    spring = dt.date(2026, 3, 29)
    now = paris(spring - dt.timedelta(days=1), 12)
    found = demand_map.heat_map(demand(brand, now, {paris(spring, 1): 2, paris(spring, 3): 2}), now)
    two = next(r for r in found.rows if r.hour == 2)
    assert two.cells[0].past  # today's 2:00 is over
    assert (two.cells[1].wanted, two.cells[1].past) == (None, False)  # the 29th has none
    assert [cell.wanted for cell in two.cells[2:]] == [0, 0, 0, 0, 0]


def heat_cells(html: str) -> list[str]:
    return re.findall(r'<td class="heat heat--[^"]*"[^>]*>', html)


def test_the_demand_page_draws_the_week_as_a_heat_map_without_inline_style(client, session, steady,  # noqa: F811
                                                                           monkeypatch):
    expert = EnrolmentFactory(brand_id=steady.id).expert
    session.commit()
    today = local_today()
    monkeypatch.setattr(views, "utcnow", lambda: paris(today, 14, 30))
    log_in(client, session.get(User, expert.user_id).email)
    response = client.get("/expert/demand")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "style=" not in html  # the site's CSP refuses inline styles
    assert "/static/css/demand.css" in html
    assert 'data-testid="heatmap"' in html and 'data-testid="heat-legend"' in html
    days = re.findall(r'<th scope="col" class="heatmap__day[^"]*" data-day="([\d-]+)"', html)
    assert days == [(today + dt.timedelta(days=n)).isoformat() for n in range(7)]
    assert html.count('aria-current="date"') == 1 and 'heatmap__day--today" data-day="' + today.isoformat() in html
    hours = re.findall(r'<th scope="row" class="heatmap__hour">([^<]+)<', html)
    assert hours == ["10 AM", "11 AM", "12 PM", "1 PM", "2 PM"]  # on the brand's clock
    cells = heat_cells(html)
    assert len(cells) == 5 * 7  # 10:00 to 14:00 (the hours short of experts), seven days
    assert sum("heat--past" in cell for cell in cells) == 4  # today's 10:00 to 13:00
    levels = [int(level) for cell in cells for level in re.findall(r'data-level="(\d)"', cell)]
    assert len(levels) == 31 and all(0 <= level <= 5 for level in levels)
    assert levels.count(0) == 3 * 6  # 11:00 to 13:00 are covered every day
    assert min(level for level in levels if level) >= 1
    assert len(re.findall(r'aria-current="time"', html)) == 1
    now_cell = next(cell for cell in cells if "heat--now" in cell)
    assert "heat--today" in now_cell and 'data-level="' in now_cell


def test_brands_that_have_not_approved_the_expert_yet_are_listed_with_what_to_do(client, session, steady):  # noqa: F811
    enrolment = EnrolmentFactory(brand_id=steady.id)
    waiting = BrandFactory(name="Vélo Rapide")
    EnrolmentFactory(brand_id=waiting.id, expert=enrolment.expert, status=EnrolmentStatus.QUIZ_PASSED)
    refused = BrandFactory(name="Nope")
    EnrolmentFactory(brand_id=refused.id, expert=enrolment.expert, status=EnrolmentStatus.REJECTED)
    session.commit()
    log_in(client, session.get(User, enrolment.expert.user_id).email)
    html = client.get("/expert/demand").get_data(as_text=True)
    section = html[html.index('data-testid="demand-waiting"'):]
    assert "Vélo Rapide" in section and "Waiting for the brand" in section
    assert "Nope" not in html
    assert f'data-testid="demand-{steady.slug}"' in html
