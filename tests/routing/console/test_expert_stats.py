"""Each expert's figures for one brand: answered chats, median first reply, rating (never on a handful), misses."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.brands.models import Brand, BrandRole
from marketplace.database import utcnow
from marketplace.errors import NotFound
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertProfile
from marketplace.routing.console import expert_stats
from marketplace.routing.models import OfferStatus
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory, EnrolmentFactory, OfferFactory
from tests.routing.conftest import admin_of


@pytest.fixture(autouse=True)
def wired(app):
    """What `routing.init_app` does: hand the experts layer the provider and the removal listener."""
    expert_stats.register(app)


def expert_of(brand: Brand) -> ExpertProfile:
    return EnrolmentFactory(brand_id=brand.id).expert


def stats_of(session, brand: Brand, expert: ExpertProfile, **kwargs) -> expert_stats.ExpertStats:
    return expert_stats.expert_stats(admin_of(session, brand), brand.id, {expert.id}, **kwargs)[expert.id]


def test_answered_counts_only_the_chats_the_expert_replied_in(session, brand):
    expert = expert_of(brand)
    for _ in range(3):
        ConversationFactory(brand=brand, expert=expert)
    ConversationFactory(brand=brand, expert=expert, reply_after=None)  # accepted, never a word: not answered
    assert stats_of(session, brand, expert).answered == 3


def test_the_median_first_reply_of_an_odd_count_is_the_middle_wait(session, brand):
    expert = expert_of(brand)
    for seconds in (10, 95, 20):
        ConversationFactory(brand=brand, expert=expert, reply_after=seconds)
    ConversationFactory(brand=brand, expert=expert, reply_after=None)  # an unanswered chat has no wait to count
    assert stats_of(session, brand, expert).median_first_reply_seconds == 20.0


def test_the_median_first_reply_of_an_even_count_is_the_mean_of_the_middle_two(session, brand):
    expert = expert_of(brand)
    for seconds in (50, 10, 40, 20):
        ConversationFactory(brand=brand, expert=expert, reply_after=seconds)
    assert stats_of(session, brand, expert).median_first_reply_seconds == 30.0


def test_an_expert_with_no_answered_chat_has_no_median_and_zeros(session, brand):
    expert = expert_of(brand)
    figures = stats_of(session, brand, expert)
    assert (figures.answered, figures.median_first_reply_seconds, figures.ratings, figures.missed_offers) == (
        0, None, 0, 0)


def test_the_rating_is_withheld_under_the_minimum_number_of_ratings(session, brand):
    expert = expert_of(brand)
    for rating in [1] * (expert_stats.MIN_RATINGS - 1):
        ConversationFactory(brand=brand, expert=expert, rating=rating)
    ConversationFactory(brand=brand, expert=expert)  # unrated: not in the sample
    figures = stats_of(session, brand, expert)
    assert (figures.ratings, figures.rating_judged, figures.rating_average) == (expert_stats.MIN_RATINGS - 1,
                                                                                 False, None)


def test_the_rating_is_shown_with_its_sample_size_from_the_minimum_on(session, brand):
    assert expert_stats.MIN_RATINGS == 5
    expert = expert_of(brand)
    for rating in (5, 4, 4, 5, 3):
        ConversationFactory(brand=brand, expert=expert, rating=rating)
    figures = stats_of(session, brand, expert)
    assert (figures.ratings, figures.rating_judged, figures.rating_average) == (5, True, 4.2)


def test_missed_offers_count_only_this_brands_expired_offers(session, brand):
    other = BrandFactory()
    expert = expert_of(brand)
    EnrolmentFactory(brand_id=other.id, expert=expert)
    for _ in range(2):
        OfferFactory(brand=brand, expert=expert, status=OfferStatus.EXPIRED)
    OfferFactory(brand=brand, expert=expert, status=OfferStatus.DECLINED)  # said no: not missed
    OfferFactory(brand=brand, expert=expert, status=OfferStatus.RESCINDED)
    for _ in range(3):
        OfferFactory(brand=other, expert=expert, status=OfferStatus.EXPIRED)
    assert stats_of(session, brand, expert).missed_offers == 2
    assert stats_of(session, other, expert).missed_offers == 3


def test_another_brands_chats_never_count(session, brand):
    other = BrandFactory()
    expert = expert_of(brand)
    EnrolmentFactory(brand_id=other.id, expert=expert)
    ConversationFactory(brand=brand, expert=expert, reply_after=10, rating=5)
    for _ in range(5):
        ConversationFactory(brand=other, expert=expert, reply_after=100, rating=1)
    figures = stats_of(session, brand, expert)
    assert (figures.answered, figures.median_first_reply_seconds, figures.ratings) == (1, 10.0, 1)


def test_the_last_30_days_leave_out_older_chats_and_misses_but_all_time_keeps_them(session, brand):
    expert = expert_of(brand)
    ConversationFactory(brand=brand, expert=expert, reply_after=10)
    ConversationFactory(brand=brand, expert=expert, reply_after=90, created_at=utcnow() - dt.timedelta(days=40))
    OfferFactory(brand=brand, expert=expert, status=OfferStatus.EXPIRED, created_at=utcnow() - dt.timedelta(days=40))
    recent = stats_of(session, brand, expert)
    assert (recent.answered, recent.median_first_reply_seconds, recent.missed_offers) == (1, 10.0, 0)
    ever = stats_of(session, brand, expert, days=None)
    assert (ever.answered, ever.median_first_reply_seconds, ever.missed_offers) == (2, 50.0, 1)


def test_without_expert_ids_every_expert_with_a_figure_is_listed(session, brand):
    busy, idle = expert_of(brand), expert_of(brand)
    ConversationFactory(brand=brand, expert=busy)
    admin = admin_of(session, brand)
    assert set(expert_stats.expert_stats(admin, brand.id)) >= {busy.id}
    assert idle.id not in expert_stats.expert_stats(admin, brand.id)


def test_another_brands_member_cannot_read_the_figures(session, brand):
    outsider = admin_of(session, BrandFactory())
    with pytest.raises(NotFound):
        expert_stats.expert_stats(outsider, brand.id)


def test_the_experts_page_shows_the_figures_and_withholds_a_thin_rating(client, session, brand):
    shown, thin = expert_of(brand), expert_of(brand)
    for rating in (5, 4, 4, 5, 3):
        ConversationFactory(brand=brand, expert=shown, reply_after=12, rating=rating)
    ConversationFactory(brand=brand, expert=thin, rating=5)
    OfferFactory(brand=brand, expert=thin, status=OfferStatus.EXPIRED)
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    log_in(client, viewer.email)
    page = client.get(f"/brands/{brand.slug}/experts?status=approved").get_data(as_text=True)
    enrolment_of = dict(session.execute(sa.select(Enrolment.expert_id, Enrolment.id)
                                        .where(Enrolment.brand_id == brand.id)).all())
    shown_row = _item(page, enrolment_of[shown.id])
    thin_row = _item(page, enrolment_of[thin.id])
    assert "4.2 / 5 from 5 ratings" in shown_row
    assert "12 s" in shown_row
    assert "not enough ratings yet (1 of the 5 needed)" in thin_row
    assert 'data-testid="missed-' in thin_row and ">1</dd>" in thin_row
    assert "Remove this expert" not in page  # a viewer sees, never changes


def _item(page: str, enrolment_id: int) -> str:
    start = page.index(f'data-testid="applicant-{enrolment_id}"')
    return page[start:page.index("</li>", start)]


def test_the_api_lists_approved_experts_with_their_figures(client, session, brand):
    expert = expert_of(brand)
    applicant = EnrolmentFactory(brand_id=brand.id, status=EnrolmentStatus.QUIZ_PASSED)
    ConversationFactory(brand=brand, expert=expert, reply_after=7, rating=4)
    admin = admin_of(session, brand)
    log_in(client, admin.email)
    listed = client.get(f"/api/v1/brands/{brand.id}/enrolments?period=all").json
    by_expert = {item["enrolment"]["expert_id"]: item for item in listed}
    assert by_expert[expert.id]["stats"] == {
        "answered": 1, "median_first_reply_seconds": 7.0, "ratings": 1, "rating_average": None,
        "rating_judged": False, "min_ratings": 5, "missed_offers": 0}
    assert by_expert[applicant.expert_id]["stats"] is None
    bad = client.get(f"/api/v1/brands/{brand.id}/enrolments?period=forever")
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["period"]
