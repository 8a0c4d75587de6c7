"""The money audit log: money events newest first with who, when and where, a page at a time, and bad filters
answered 4xx naming the field."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime

from marketplace.accounts import services as accounts
from marketplace.accounts.models import AuditEvent, Role
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.payouts.reports.reading import UTC, table

PARIS = zoneinfo.ZoneInfo("Europe/Paris")

def audit(session, kind: str, when: dt.datetime, **detail) -> AuditEvent:
    accounts.record_audit(kind, **detail)
    session.flush()
    event = session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    event.created_at = when
    session.commit()
    return event


def test_the_audit_log_shows_money_events_newest_first_with_who_when_and_where(client, session, finance):
    fanny = finance[0]
    expert_user = UserFactory(role=Role.EXPERT, email="camille@example.com")
    noon = dt.datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    created = audit(session, "payout_batch_created", noon, actor_id=fanny.id, ip="192.0.2.7", batch_id=41,
                    currency="EUR", items=2, total_cents=4_250)
    read = audit(session, "payout_details_read", noon + dt.timedelta(minutes=5), actor_id=fanny.id,
                 subject_id=expert_user.id, ip="192.0.2.7", expert_id=3, reason="=SEPA file of payout batch 41")
    audit(session, "login", noon + dt.timedelta(minutes=6), actor_id=fanny.id, ip="192.0.2.7")  # not money
    finished = audit(session, "payout_batch_finished", noon + dt.timedelta(minutes=7), batch_id=42, status="paid")
    log_in(client, finance[1].email)

    listed = client.get("/api/v1/payout-audit-events").json

    mine = [event for event in listed["events"] if event["id"] in {created.id, read.id, finished.id}]
    assert [event["id"] for event in listed["events"]][:3] == [finished.id, read.id, created.id]
    assert all(event["kind"].startswith("payout_") for event in listed["events"])
    assert mine[2] == {"id": created.id, "created_at": "2025-01-10T12:00:00+00:00", "kind": "payout_batch_created",
                       "actor_id": fanny.id, "actor_name": "Fanny Finance", "actor_email": fanny.email,
                       "actor_label": "Fanny Finance", "kind_name": "Batch drafted",
                       "subject_id": None, "ip": "192.0.2.7",
                       "detail": {"batch_id": 41, "currency": "EUR", "items": 2, "total_cents": 4_250}}
    assert mine[0]["actor_id"] is None and mine[0]["actor_name"] is None  # the system finished it
    assert mine[0]["actor_label"] == "the system" and mine[0]["kind_name"] == "Batch finished"
    assert {"login"} & set(listed["kinds"]) == set()
    assert {"payout_batch_created", "payout_details_read", "payout_batch_finished"} <= set(listed["kinds"])

    page = client.get("/finance/audit").get_data(as_text=True)
    assert format_datetime(noon, "medium", tzinfo=PARIS, locale="en") in page  # 1:00 PM in Paris
    assert "Fanny Finance" in page and "192.0.2.7" in page and "about camille@example.com" in page
    assert "<dt>Total (cents)</dt><dd>4250</dd>" in page and "the system" in page
    assert '<option value="payout_details_read">' in page

    by_batch = client.get("/api/v1/payout-audit-events?batch_id=41").json["events"]
    assert [event["id"] for event in by_batch] == [created.id]
    by_kind = client.get("/api/v1/payout-audit-events?kind=payout_details_read").json["events"]
    assert [event["id"] for event in by_kind] == [read.id]
    filtered_page = client.get("/finance/audit?kind=payout_details_read").get_data(as_text=True)
    assert f'data-testid="event-{read.id}"' in filtered_page
    assert f'data-testid="event-{created.id}"' not in filtered_page

    rows = table(client.get("/finance/audit.csv?batch_id=41"))
    assert rows == [
        ["event_id", "created_at", "kind", "actor_id", "actor_name", "actor_email", "subject_id", "subject_email",
         "ip", "batch_id", "detail"],
        [str(created.id), "2025-01-10T12:00:00Z", "payout_batch_created", str(fanny.id), "Fanny Finance",
         fanny.email, "", "", "192.0.2.7", "41",
         '{"batch_id": 41, "currency": "EUR", "items": 2, "total_cents": 4250}'],
    ]
    read_rows = table(client.get("/api/v1/payout-audit-events.csv?kind=payout_details_read"))
    assert read_rows[1][2] == "payout_details_read" and read_rows[1][7] == "camille@example.com"
    assert read_rows[1][10] == '{"expert_id": 3, "reason": "=SEPA file of payout batch 41"}'  # JSON: no formula


def test_the_audit_log_pages_by_before_id_fifty_at_a_time(client, session, finance):
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    events = [audit(session, "payout_batch_approved", start + dt.timedelta(minutes=n), actor_id=finance[0].id,
                    batch_id=900) for n in range(53)]
    newest_first = [event.id for event in reversed(events)]
    log_in(client, finance[1].email)

    first = client.get("/api/v1/payout-audit-events?batch_id=900").json
    second = client.get(f"/api/v1/payout-audit-events?batch_id=900&before_id={first['next_before_id']}").json

    assert [event["id"] for event in first["events"]] == newest_first[:50]
    assert first["next_before_id"] == newest_first[49]
    assert [event["id"] for event in second["events"]] == newest_first[50:]
    assert second["next_before_id"] is None
    page = client.get("/finance/audit?batch_id=900").get_data(as_text=True)
    assert page.count('data-testid="event-') == 50
    assert f'href="/finance/audit?before_id={newest_first[49]}&amp;batch_id=900"' in page
    older = client.get(f"/finance/audit?before_id={newest_first[49]}&batch_id=900").get_data(as_text=True)
    assert older.count('data-testid="event-') == 3 and 'data-testid="older"' not in older


@pytest.mark.parametrize(("query", "field"), [
    ("kind=login", "kind"),  # not a money event
    ("batch_id=abc", "batch_id"),
    ("batch_id=0", "batch_id"),
    ("batch_id=%C2%B2", "batch_id"),  # a superscript two: a digit to Python, not a number
    (f"batch_id={'9' * 30}", "batch_id"),
    ("before_id=-3", "before_id"),
])
def test_bad_audit_filters_are_refused_naming_the_field(client, finance, query, field):
    log_in(client, finance[0].email)

    page = client.get(f"/finance/audit?{query}")
    api = client.get(f"/api/v1/payout-audit-events?{query}")

    assert page.status_code == 422 and "events-title" not in page.get_data(as_text=True)
    assert api.status_code == 422 and list(api.json["errors"]) == [field]
