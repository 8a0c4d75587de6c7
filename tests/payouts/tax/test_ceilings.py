"""The ceilings (micro-entrepreneur, VAT franchise) are dated settings: the expert's earnings page warns from 80 %
of the amount in force, and finance adds a new amount from a day on."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.database import db, utcnow
from marketplace.payouts.models import TaxThreshold
from marketplace.payouts.tax import services as tax
from tests.conftest import log_in
from tests.factories import BrandFactory, UserFactory
from tests.payouts.tax import ledger


@pytest.fixture
def earner(session, monkeypatch, fake):
    """An expert paid 32,000.00 EUR net an hour ago (this year), and the two finance users."""
    brand = BrandFactory(name="Atelier", price_cents=1000)
    session.commit()
    profile = ledger.expert(session, brand, "Camille Martin", "FR", "73282932000074", ledger.CAMILLE_IBAN)
    finance = (UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE))
    session.commit()
    when = utcnow() - dt.timedelta(hours=1)
    ledger.earning(brand, profile, when, 3_200_000, 0)
    ledger.release(monkeypatch, when)
    ledger.pay(monkeypatch, finance, when)
    ledger.at(monkeypatch, None)
    return profile, finance


def test_the_seeded_amounts_are_the_finance_laws(session):
    rows = {(row.kind, row.effective_from): row.amount_cents for row in session.scalars(sa.select(TaxThreshold))}

    assert rows[("micro_services", dt.date(2023, 1, 1))] == 7_770_000
    assert rows[("vat_franchise_services", dt.date(2023, 1, 1))] == 3_680_000
    assert rows[("vat_franchise_services", dt.date(2025, 1, 1))] == 3_750_000


def test_the_earnings_page_warns_near_the_vat_franchise_ceiling_in_force(client, earner):
    expert, _ = earner
    log_in(client, db.session.get(User, expert.user_id).email)

    page = client.get("/expert/earnings").get_data(as_text=True)

    (warning,) = tax.ceiling_warnings(expert.id)
    assert (warning.kind, warning.level, warning.percent) == ("vat_franchise_services", "near", 85)
    assert warning.amount_cents == 3_750_000 and warning.effective_from == dt.date(2025, 1, 1)
    assert 'data-testid="ceiling-vat_franchise_services" data-level="near"' in page
    assert 'data-testid="ceiling-micro_services"' not in page  # 32,000 is 41 % of 77,700
    assert 'data-testid="tax-notice"' in page


def test_a_new_amount_from_finance_applies_from_its_day_on(client, earner):
    expert, finance = earner
    today = utcnow().astimezone(tax.zone()).date()
    csrf = log_in(client, finance[0].email)

    response = client.post("/finance/tax/thresholds", data={
        "kind": "vat_franchise_services", "effective_from": today.replace(month=1, day=2).isoformat(),
        "amount": "30000", "note": "test law", "csrf_token": csrf})

    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    (warning,) = tax.ceiling_warnings(expert.id)
    assert (warning.level, warning.amount_cents) == ("passed", 3_000_000)
    # the year before still had 37,500 (nothing paid then: no warning), and the audit log has the change
    assert tax.ceiling_warnings(expert.id, now=dt.datetime(today.year, 1, 1, 12, tzinfo=dt.UTC)) == []
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "tax_threshold_added"))


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "nonsense", "effective_from": "2026-01-01", "amount": "100"}, "kind"),
    ({"kind": "micro_services", "effective_from": "someday", "amount": "100"}, "effective_from"),
    ({"kind": "micro_services", "effective_from": "2026-01-01", "amount": "-5"}, "amount"),
    ({"kind": "micro_services", "effective_from": "2023-01-01", "amount": "100"}, "effective_from"),  # taken
])
def test_a_bad_amount_is_refused_by_its_field_and_nothing_is_saved(client, session, earner, data, field):
    _, finance = earner
    csrf = log_in(client, finance[0].email)
    before = session.scalar(sa.select(sa.func.count()).select_from(TaxThreshold))

    response = client.post("/finance/tax/thresholds", data={**data, "csrf_token": csrf})

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(TaxThreshold)) == before


def test_only_finance_changes_the_ceilings(client, earner):
    expert, _ = earner
    csrf = log_in(client, db.session.get(User, expert.user_id).email)

    response = client.post("/finance/tax/thresholds", data={"kind": "micro_services", "csrf_token": csrf,
                                                             "effective_from": "2026-01-01", "amount": "1"})

    assert response.status_code in (403, 404)
    assert tax.ceiling_warnings(expert.id)[0].kind == "vat_franchise_services"
