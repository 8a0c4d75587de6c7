"""Only finance sees the reports: other roles are refused every page, download and API call, and so are the
services."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.errors import Forbidden
from marketplace.payouts.reports import audit_log, exports, reconciliation
from tests.conftest import log_in
from tests.factories import UserFactory

PAGES = ["/finance/exports", "/finance/exports/ledger.csv?from=2025-01-01&to=2025-01-31",
         "/finance/exports/earnings.csv?from=2025-01-01&to=2025-01-31", "/finance/batches/1/items.csv",
         "/finance/reconciliation", "/finance/reconciliation.csv", "/finance/audit", "/finance/audit.csv"]
API = ["/api/v1/exports/ledger.csv?from=2025-01-01&to=2025-01-31",
       "/api/v1/exports/earnings.csv?from=2025-01-01&to=2025-01-31", "/api/v1/payout-batches/1/items.csv",
       "/api/v1/reconciliation", "/api/v1/reconciliation.csv", "/api/v1/payout-audit-events",
       "/api/v1/payout-audit-events.csv"]


@pytest.mark.parametrize("role", [Role.EXPERT, Role.BRAND, Role.OPS])
def test_other_roles_are_refused_every_report(client, session, role):
    log_in(client, UserFactory(role=role).email)
    for path in PAGES + API:
        response = client.get(path)
        assert response.status_code == 403, (role, path)
        assert response.mimetype != "text/csv"


def test_anonymous_people_are_sent_to_log_in_and_programs_get_401(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for path in API:
        assert client.get(path).status_code == 401, path


def test_the_services_refuse_anyone_but_finance(session):
    ops = UserFactory(role=Role.OPS)
    for call in (lambda: reconciliation.reconcile(ops), lambda: audit_log.money_audit(ops),
                 lambda: exports.ledger_csv(ops, "2025-01-01", "2025-01-02"),
                 lambda: exports.earnings_csv(ops, "2025-01-01", "2025-01-02"),
                 lambda: exports.batch_items_csv(ops, 1), lambda: audit_log.money_audit_csv(ops)):
        with pytest.raises(Forbidden):
            call()
