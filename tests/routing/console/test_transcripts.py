"""The brand's past conversations: search filters, transcripts and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandRole
from marketplace.errors import InvalidInput, NotFound
from marketplace.experts.models import ExpertProfile
from marketplace.routing.console import transcripts
from marketplace.routing.models import Conversation, ConversationStatus, EndReason
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory, BrandFactory, ConversationFactory, UserFactory
from tests.routing.conftest import admin_of

UTC = dt.UTC


@pytest.fixture
def brand(session) -> Brand:
    """A brand on New York's clock, so a local day is not a UTC (or Paris) day."""
    brand = BrandFactory(name="Lumière", timezone="America/New_York", topics=["Soins", "Maquillage"])
    session.commit()
    return brand


def expert(name: str) -> ExpertProfile:
    return ApprovedExpertFactory(display_name=name)


def found(actor, brand: Brand, **filters) -> list[int]:
    return [row.id for row in transcripts.search_conversations(actor, brand.id, filters).rows]


@pytest.fixture
def admin(session, brand) -> User:
    return admin_of(session, brand)


# Search filters.

def test_the_day_filter_follows_the_brands_local_midnight(session, brand, admin):
    # 03:30 UTC on 4 March is still 3 March (22:30) in New York; 05:30 UTC is 4 March (00:30) there.
    late_evening = ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 4, 3, 30, tzinfo=UTC))
    after_midnight = ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 4, 5, 30, tzinfo=UTC))
    session.commit()
    march_3, march_4 = dt.date(2026, 3, 3), dt.date(2026, 3, 4)
    assert found(admin, brand, date_from=march_3, date_to=march_3) == [late_evening.id]
    assert found(admin, brand, date_from=march_4, date_to=march_4) == [after_midnight.id]
    assert found(admin, brand, date_from=march_4) == [after_midnight.id]
    assert found(admin, brand, date_to=march_3) == [late_evening.id]
    assert found(admin, brand, date_from=march_3, date_to=march_4) == [after_midnight.id, late_evening.id]


def test_a_last_day_before_the_first_is_refused_naming_date_to(session, brand, admin):
    with pytest.raises(InvalidInput) as refused:
        transcripts.search_conversations(admin, brand.id, {"date_from": dt.date(2026, 3, 4),
                                                           "date_to": dt.date(2026, 3, 3)})
    assert refused.value.field == "date_to"


def test_the_expert_filter_keeps_that_experts_chats_and_offers_only_the_brands_experts(session, brand, admin):
    helene, marc, elsewhere = expert("Hélène"), expert("Marc"), expert("Zoé")
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    hers = ConversationFactory(brand=brand, created_at=now, expert=helene)
    ConversationFactory(brand=brand, created_at=now, expert=marc)
    ConversationFactory(brand=brand, created_at=now, status=ConversationStatus.MISSED)
    ConversationFactory(brand=BrandFactory(), created_at=now, expert=elsewhere)
    session.commit()
    assert found(admin, brand, expert_id=helene.id) == [hers.id]
    assert transcripts.handling_experts(admin, brand.id) == [(helene.id, "Hélène"), (marc.id, "Marc")]


def test_the_rating_filter_is_exact_or_a_minimum(session, brand, admin):
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    three, four, five = (ConversationFactory(brand=brand, created_at=now + dt.timedelta(minutes=n), rating=n)
                         for n in (3, 4, 5))
    ConversationFactory(brand=brand, created_at=now)  # not rated
    session.commit()
    assert found(admin, brand, rating=4) == [four.id]
    assert found(admin, brand, min_rating=4) == [five.id, four.id]
    assert found(admin, brand, min_rating=3, rating=3) == [three.id]


def test_the_topic_and_status_filters_narrow_the_list(session, brand, admin):
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    care = ConversationFactory(brand=brand, created_at=now, topic="Soins")
    capped = ConversationFactory(brand=brand, created_at=now, topic="Maquillage", status=ConversationStatus.CAPPED,
                                 end_reason=EndReason.DAILY_CAP)
    ConversationFactory(brand=brand, created_at=now, topic="Maquillage")
    session.commit()
    assert found(admin, brand, topic="Soins") == [care.id]
    assert found(admin, brand, status="capped") == [capped.id]
    assert found(admin, brand, topic="Maquillage", status="capped") == [capped.id]
    with pytest.raises(InvalidInput) as refused:
        found(admin, brand, status="lost")
    assert refused.value.field == "status"


def test_the_text_filter_ignores_case_and_takes_wildcards_literally(session, brand, admin):
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    serum = ConversationFactory(brand=brand, created_at=now,
                                messages=("Bonjour", "Votre SÉRUM Éclat existe en 50% de remise ?"))
    ConversationFactory(brand=brand, created_at=now, messages=("Il coûte 500 euros ?",))
    ConversationFactory(brand=brand, created_at=now, messages=("Rien à voir",))
    session.commit()
    assert found(admin, brand, text="sérum éclat".upper()) == [serum.id]
    assert found(admin, brand, text="rum écl".replace("é", "É")) == [serum.id]
    assert found(admin, brand, text="50%") == [serum.id]  # not "500": % is no wildcard
    assert found(admin, brand, text="e_r") == []  # nor is _


def test_results_come_newest_first_fifty_a_page_with_the_total(session, brand, admin):
    start = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
    ids = [ConversationFactory(brand=brand, created_at=start + dt.timedelta(minutes=n)).id for n in range(51)]
    session.commit()
    first = transcripts.search_conversations(admin, brand.id, {}, page=1)
    second = transcripts.search_conversations(admin, brand.id, {}, page=2)
    assert (first.total, first.pages, len(first.rows)) == (51, 2, 50)
    assert [row.id for row in first.rows] == ids[::-1][:50]
    assert [row.id for row in second.rows] == [ids[0]]


# Transcripts and access.

def test_a_transcript_has_its_messages_in_order(session, brand, admin):
    conversation = ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC),
                                       messages=("Un", "Deux", "Trois"))
    session.commit()
    shown = transcripts.transcript(admin, brand.id, conversation.id)
    assert [(m.seq, m.body) for m in shown.messages] == [(1, "Un"), (2, "Deux"), (3, "Trois")]
    assert shown.conversation.message_count == 3


def test_another_brands_conversation_is_not_found_on_page_and_api(client, session, brand, admin):
    theirs = ConversationFactory(brand=BrandFactory(), created_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC),
                                 messages=("Secret",))
    session.commit()
    with pytest.raises(NotFound):
        transcripts.transcript(admin, brand.id, theirs.id)
    log_in(client, admin.email)
    page = client.get(f"/brands/{brand.slug}/conversations/{theirs.id}")
    assert page.status_code == 404 and "Secret" not in page.get_data(as_text=True)
    api = client.get(f"/api/v1/brands/{brand.id}/conversations/{theirs.id}")
    assert api.status_code == 404
    other_brand = client.get(f"/api/v1/brands/{theirs.brand_id}/conversations")
    assert other_brand.status_code == 404


def test_the_pages_list_and_show_conversations_to_a_viewer(client, session, brand):
    conversation = ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC),
                                       expert=expert("Hélène"), topic="Soins", rating=5,
                                       messages=("Quelle crème pour peau sèche ?",))
    ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 10, 16, tzinfo=UTC), topic="Maquillage")
    session.commit()
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    listing = client.get(f"/brands/{brand.slug}/conversations?topic=Soins&min_rating=4")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert re.findall(r'data-conversation-id="(\d+)"', html) == [str(conversation.id)]
    assert "/conversations.csv?" in html and "topic=Soins" in html and "min_rating=4" in html
    page = client.get(f"/brands/{brand.slug}/conversations/{conversation.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Quelle crème pour peau sèche ?" in text and "Hélène" in text


def test_a_bad_filter_on_the_page_is_named_not_a_500(client, session, brand, admin):
    log_in(client, admin.email)
    response = client.get(f"/brands/{brand.slug}/conversations?rating=9&date_from=yesterday")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="rating-error"' in html and 'id="date_from-error"' in html


def test_the_api_filters_pages_and_names_bad_fields(client, session, brand):
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    good = ConversationFactory(brand=brand, created_at=now, rating=5, rate_cents=750)
    ConversationFactory(brand=brand, created_at=now, rating=2)
    session.commit()
    log_in(client, UserFactory(role=Role.FINANCE).email)  # finance reads every brand, as a viewer
    response = client.get(f"/api/v1/brands/{brand.id}/conversations?min_rating=4")
    assert response.status_code == 200
    assert response.json["total"] == 1 and response.json["pages"] == 1
    assert [(c["id"], c["rate_cents"]) for c in response.json["conversations"]] == [(good.id, 750)]
    bad = client.get(f"/api/v1/brands/{brand.id}/conversations?rating=6&date_to=never")
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"rating", "date_to"}
    transcript = client.get(f"/api/v1/brands/{brand.id}/conversations/{good.id}")
    assert transcript.status_code == 200 and transcript.json["conversation"]["rating"] == 5


# CSV export.

def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_the_csv_is_semicolon_separated_utf8_with_bom_and_accents_intact(client, session, brand, admin):
    helene = expert("Hélène")
    # Closed, yet with no end reason nor closing time: the row leaves both cells empty.
    ConversationFactory(brand=brand, created_at=dt.datetime(2026, 3, 4, 3, 30, tzinfo=UTC), expert=helene,
                        topic="Crème hydratante", rating=5, rating_comment="Très bien, merci", rate_cents=750,
                        accepted_at=dt.datetime(2026, 3, 4, 3, 31, tzinfo=UTC),
                        first_reply_at=dt.datetime(2026, 3, 4, 3, 31, 42, tzinfo=UTC), end_reason=None, closed_at=None,
                        messages=("Bonjour", "Merci"), page_url="https://shop.example.com/crème")
    session.commit()
    log_in(client, admin.email)
    response = client.get(f"/brands/{brand.slug}/conversations.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(rf'attachment; filename="conversations-{brand.slug}-\d{{4}}-\d{{2}}-\d{{2}}\.csv"',
                        response.headers["Content-Disposition"])
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    assert text.splitlines()[0] == "\ufeff" + ";".join(transcripts.CSV_COLUMNS)
    [row] = read_csv(text)
    assert row == {
        "id": row["id"], "created": "2026-03-03 22:30:00", "status": "closed", "end_reason": "",
        "topic": "Crème hydratante", "expert": "Hélène", "accepted": "2026-03-03 22:31:00",
        "first_reply_seconds": "42", "closed": "",
        "rating": "5", "rating_comment": "Très bien, merci", "rate_cents": "750", "messages": "2",
        "page_url": "https://shop.example.com/crème", "anonymised": "",
    }


def test_csv_cells_that_would_run_as_formulas_are_neutralised(session, brand, admin):
    now = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    for n, comment in enumerate(("=HYPERLINK(\"http://evil\")", "+33 6 12", "-1", "-1+cmd|' /C calc'!A0",
                                 "@SUM(A1)", "fine")):
        ConversationFactory(brand=brand, created_at=now + dt.timedelta(minutes=n), rating=1, rating_comment=comment)
    session.commit()
    rows = read_csv("".join(transcripts.export_csv(admin, brand.id, {})))
    assert [row["rating_comment"] for row in rows] == [  # a plain number ("-1") stays a number
        "fine", "'@SUM(A1)", "'-1+cmd|' /C calc'!A0", "-1", "'+33 6 12", "'=HYPERLINK(\"http://evil\")"]


def test_the_csv_applies_the_filters_and_streams_every_row_in_batches(client, session, brand, admin, monkeypatch):
    monkeypatch.setattr(transcripts, "EXPORT_BATCH", 2)
    start = dt.datetime(2026, 3, 10, 15, tzinfo=UTC)
    wanted = [ConversationFactory(brand=brand, created_at=start + dt.timedelta(minutes=n % 3), topic="Soins").id
              for n in range(5)]
    ConversationFactory(brand=brand, created_at=start, topic="Maquillage")
    session.commit()
    chunks = list(transcripts.export_csv(admin, brand.id, {"topic": "Soins"}))
    assert len(chunks) == 1 + 3  # the header, then batches of 2, 2 and 1
    newest_first = sorted(wanted, key=lambda i: (session.get(Conversation, i).created_at, i), reverse=True)
    assert [int(row["id"]) for row in read_csv("".join(chunks))] == newest_first
    log_in(client, admin.email)
    page = client.get(f"/brands/{brand.slug}/conversations.csv?topic=Maquillage")
    assert [row["topic"] for row in read_csv(page.get_data(as_text=True))] == ["Maquillage"]


def test_a_csv_with_bad_filters_sends_back_to_the_search_page_that_names_them(client, session, brand, admin):
    log_in(client, admin.email)
    response = client.get(f"/brands/{brand.slug}/conversations.csv?date_from=2026-03-04&date_to=2026-03-03")
    assert response.status_code == 302
    assert response.headers["Location"] == (f"/brands/{brand.slug}/conversations"
                                            "?date_from=2026-03-04&date_to=2026-03-03")
    page = client.get(response.headers["Location"])
    assert page.status_code == 422 and 'id="date_to-error"' in page.get_data(as_text=True)


def test_the_csv_of_another_brand_is_not_found(client, session, brand, admin):
    other = BrandFactory()
    session.commit()
    log_in(client, admin.email)
    assert client.get(f"/brands/{other.slug}/conversations.csv").status_code == 404
    with pytest.raises(NotFound):
        transcripts.export_csv(admin, other.id, {})
