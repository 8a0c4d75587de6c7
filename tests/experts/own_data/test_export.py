"""The expert's data export: one zip with everything held about them, and nothing of anyone else."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.database import READ_ONLY, db
from marketplace.decisions import services as decisions
from marketplace.experts.models import PayoutDetails
from marketplace.experts.own_data import SECTIONS, register_export_section
from marketplace.experts.own_data import export as exports
from marketplace.routing.ratings import services as ratings
from tests.conftest import log_in

CATEGORIES = {"profile", "enrolments", "quiz_attempts", "presence", "presence_history", "payout_details",
              "audit_entries", "bank_detail_reads", "notifications", "push_subscriptions", "sessions", "shifts",
              "offers", "conversations", "messages", "ratings", "earnings", "faq_credits", "payouts", "statements",
              "tax_summaries", "rating_contests", "visitor_reports", "decisions"}


def _download(client, floor):
    log_in(client, floor.alice.user.email)
    response = client.get("/api/v1/experts/me/export")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def _archive(response) -> tuple[dict, dict[str, str]]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    files = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    return json.loads(files.pop("everything.json")), files


def test_the_archive_is_an_attachment_named_with_the_day(client, floor):
    response = _download(client, floor)
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="my-expert-data-20') and disposition.endswith('.zip"')
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_archive_holds_every_category_with_a_csv_per_table(client, floor):
    everything, files = _archive(_download(client, floor))
    assert set(everything["sections"]) >= CATEGORIES
    tables = {name for name, value in everything["sections"].items() if isinstance(value, list)}
    assert {f"{name}.csv" for name in tables} == set(files)
    assert everything["expert_id"] == floor.alice.profile.id
    data = everything["sections"]
    assert data["profile"]["account"]["email"] == "alice.martin@example.com"
    assert data["profile"]["expert"]["phone"] == "+33612345678"
    assert data["payout_details"]["iban"] == floor.alice.iban  # theirs: in full
    assert [row["passed"] for row in data["quiz_attempts"]] == [True]
    assert len(data["presence_history"]) == 1 and len(data["shifts"]) == 1 and len(data["earnings"]) == 1
    assert data["push_subscriptions"][0]["endpoint"] == "https://push.example/alice"
    assert "p256dh" not in data["push_subscriptions"][0] and "auth" not in data["push_subscriptions"][0]
    assert [row["rating"] for row in data["ratings"]] == [5]
    assert {row["outcome"] for row in data["offers"]} == {"accepted"}
    assert len(data["bank_detail_reads"]) == 1 and data["bank_detail_reads"][0]["by"] == "finance"
    assert any(row["kind"] == "payout_details_changed" for row in data["audit_entries"])
    assert data["sessions"] and data["statements"][0]["net_cents"] == data["earnings"][0]["expert_cents"]
    shifts = list(csv.DictReader(io.StringIO(files["shifts.csv"])))
    assert [row["status"] for row in shifts] == ["booked"]


def test_a_shared_conversation_shows_only_what_the_expert_saw(client, floor):
    everything, _files = _archive(_download(client, floor))
    data = everything["sections"]
    shared = [row for row in data["conversations"] if row["id"] == floor.shared_id]
    assert shared and shared[0]["held_by_you"] is False and shared[0]["status"] is None
    seen = [(row["from"], row["body"]) for row in data["messages"] if row["conversation_id"] == floor.shared_id]
    assert seen == [("visitor", "Visitor asks first"), ("you", "First expert answers")]


def test_nothing_of_another_expert_is_in_the_archive(client, floor):
    response = _download(client, floor)
    _everything, files = _archive(response)
    text = zipfile.ZipFile(io.BytesIO(response.data)).read("everything.json").decode() + "".join(files.values())
    for foreign in ("Xavier", "xavier.durand@example.com", floor.xavier.iban, "https://push.example/xavier",
                    "Visitor writes again later", "Only about the second", "Slow help", "Second expert answers",
                    "key-Alice"):
        assert foreign not in text


def test_the_export_is_audited_as_a_read_of_the_bank_details(client, session, floor):
    _download(client, floor)
    kinds = session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.subject_id == floor.alice.user.id,
                                                             AuditEvent.actor_id == floor.alice.user.id)).all()
    assert "expert_data_exported" in kinds
    read = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "payout_details_read",
                                                      AuditEvent.actor_id == floor.alice.user.id))
    assert read is not None and read.detail == {"expert_id": floor.alice.profile.id, "reason": "data export"}


def test_the_app_has_a_download_button_that_gives_the_same_archive(client, floor):
    log_in(client, floor.alice.user.email)
    page = client.get("/expert/profile").get_data(as_text=True)
    assert 'href="/expert/my-data.zip"' in page and "Download my data" in page
    response = client.get("/expert/my-data.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    everything, _files = _archive(response)
    assert everything["expert_id"] == floor.alice.profile.id


def test_a_section_added_later_is_in_the_archive_with_one_line(app, client, floor):
    register_export_section(app, "added_later", lambda holder: [{"year": 2026, "expert": holder.profile.id}])
    try:
        everything, files = _archive(_download(client, floor))
    finally:
        app.extensions[SECTIONS].pop("added_later")
    assert everything["sections"]["added_later"] == [{"year": 2026, "expert": floor.alice.profile.id}]
    assert "added_later.csv" in files


def test_the_sections_are_read_in_a_read_only_transaction_and_the_audit_written_after(app, client, floor):
    """Reading years of chats takes seconds: on SQLite a read-only transaction takes no write lock, so nobody waits
    for an export; the audit entries are written once the reading is over."""
    seen = []

    def spy(holder):
        seen.append((db.session.connection().get_execution_options().get(READ_ONLY), _audits_of(floor)))
        return {}

    before = _audits_of(floor)
    register_export_section(app, "spy", spy)
    try:
        _download(client, floor)
    finally:
        app.extensions[SECTIONS].pop("spy")
    assert seen == [(True, before)]
    assert _audits_of(floor) == before + 2  # the export, and the read of the bank details it holds


def _audits_of(floor) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_id == floor.alice.user.id,
        AuditEvent.kind.in_(["expert_data_exported", "payout_details_read"])))


def test_the_archive_holds_the_experts_contests_and_reports_and_none_of_the_others(client, floor):
    own = floor.rated_ids["alice"]
    ratings.contest_rating(floor.alice.profile.id, own, "The visitor rated the wrong chat")
    ratings.report_visitor(floor.alice.profile.id, own, "insults", "Rude from the first message")
    ratings.contest_rating(floor.xavier.profile.id, floor.rated_ids["xavier"], "Xavier contests his own")
    everything, files = _archive(_download(client, floor))
    data = everything["sections"]
    assert [(row["conversation_id"], row["reason"], row["status"]) for row in data["rating_contests"]] == [
        (own, "The visitor rated the wrong chat", "pending")]
    assert [(row["conversation_id"], row["reason"], row["comment"]) for row in data["visitor_reports"]] == [
        (own, "insults", "Rude from the first message")]
    assert "Xavier contests his own" not in "".join(files.values())
    assert {"rating_contests.csv", "visitor_reports.csv"} <= set(files)


def test_the_archive_holds_the_yearly_tax_summaries_of_paid_years(client, floor):
    everything, _files = _archive(_download(client, floor))
    # Nothing was paid out to Alice yet: no year to summarise, and the section says so with an empty table.
    assert everything["sections"]["tax_summaries"] == []


def test_only_experts_export_and_anonymous_callers_get_a_problem(client, session, floor):
    anonymous = client.get("/api/v1/experts/me/export")
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json"
    finance = session.get(type(floor.alice.user), session.scalar(
        sa.select(AuditEvent.actor_id).where(AuditEvent.kind == "payout_details_read",
                                             AuditEvent.subject_id == floor.xavier.user.id)))
    log_in(client, finance.email)
    refused = client.get("/api/v1/experts/me/export")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"


def test_csv_cells_hold_nested_values_as_json():
    text = exports._csv([{"a": 1, "b": {"x": [1, 2]}}, {"a": None, "c": "é"}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{"a": "1", "b": '{"x": [1, 2]}', "c": ""}, {"a": "", "b": "", "c": "é"}]


def test_the_expert_now_holding_a_shared_chat_gets_none_of_the_first_experts_words(client, floor):
    log_in(client, floor.xavier.user.email)
    response = client.get("/api/v1/experts/me/export")
    everything, files = _archive(response)
    seen = [(row["from"], row["body"]) for row in everything["sections"]["messages"]
            if row["conversation_id"] == floor.shared_id]
    assert seen == [("visitor", "Visitor asks first"), ("visitor", "Visitor writes again later"),
                    ("you", "Second expert answers")]
    text = json.dumps(everything) + "".join(files.values())
    for foreign in ("Alice", "alice.martin@example.com", floor.alice.iban, "First expert answers", "Great help"):
        assert foreign not in text


def test_without_bank_details_the_export_is_no_read_of_them(client, session, floor):
    session.delete(session.get(PayoutDetails, floor.alice.profile.id))
    session.commit()
    everything, _files = _archive(_download(client, floor))
    assert everything["sections"]["payout_details"] is None
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "payout_details_read",
                                                      AuditEvent.actor_id == floor.alice.user.id)) is None


def test_the_openapi_document_describes_the_archive(client):
    spec = client.get("/api/openapi.json").json
    export = spec["paths"]["/api/v1/experts/me/export"]["get"]
    assert "application/zip" in export["responses"]["200"]["content"]
    close = spec["paths"]["/api/v1/experts/me/close"]["post"]
    assert {"409", "422"} <= set(close["responses"])


def test_the_archive_holds_the_decisions_about_the_expert_and_none_about_another(client, session, floor):
    decisions.record(floor.alice.profile.id, "missed_offers", {"missed_offers": 3, "limit": 3})
    decisions.record(floor.xavier.profile.id, "missed_offers", {"missed_offers": 5, "limit": 5})
    session.commit()
    everything, files = _archive(_download(client, floor))
    rows = everything["sections"]["decisions"]
    assert [(row["reason_code"], row["parameters"]) for row in rows] == [
        ("missed_offers", {"missed_offers": 3, "limit": 3})]
    assert rows[0]["reason"] and rows[0]["review"] is None
    assert "decisions.csv" in files
