"""A ledger built as the payouts domain builds it, at chosen moments: earnings posted, released past their hold,
and paid by SEPA batches that finance drafts, approves, submits and confirms.

Two experts of one brand, in 2024-2026 (the platform's clock is Europe/Paris):

| expert | chat      | price + bonus | commission | net   | released   | paid (UTC)             | paid (Paris)   |
| ------ | --------- | ------------- | ---------- | ----- | ---------- | ---------------------- | -------------- |
| Camille| e2024     | 8.00          | 1.60       | 6.40  | 2024-12-01 | 2024-12-10 12:00       | 2024, Q4       |
| Camille| e1        | 10.00 + 1.00  | 2.00       | 9.00  | 2025-03-20 | 2025-03-31 22:30       | 2025-04-01: Q2 |
| Camille| e2        | 20.00         | 4.00       | 16.00 | 2025-06-10 | 2025-06-15 12:00       | 2025, Q2       |
| Sacha  | s1        | 30.00         | 6.00       | 24.00 | 2025-08-01 | 2025-08-05 12:00       | 2025, Q3       |
| Camille| FAQ credit| 1.50          | 0          | 1.50  | 2025-09-01 | 2025-09-10 12:00       | 2025, Q3       |
| Camille| e3        | 5.00          | 1.00       | 4.00  | 2025-12-20 | 2025-12-31 23:30       | 2026-01-01: Q1 |

and a chat of Camille's closed in 2025 whose earning was reversed (never released, never paid).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from marketplace.accounts.models import Role, User
from marketplace.core import ledger
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertProfile, PayoutDetails
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.credits import services as credits
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import books
from marketplace.payouts.models import EarningStatus
from marketplace.sealing import seal
from tests.factories import BrandFactory, EarningFactory, LedgerTransactionFactory, PayoutBatchFactory, UserFactory
from tests.payouts.credits.resolutions import entry, pays_credit, resolved
from tests.payouts.earnings.test_services import expert_of

UTC = dt.UTC
CAMILLE_IBAN = "FR1420041010050500013M02606"
SACHA_IBAN = "BE68539007547034"


@dataclass
class Books:
    camille: ExpertProfile
    sacha: ExpertProfile
    finance: tuple[User, User]


def expert(session, brand, name: str, country: str, siret: str | None, iban: str) -> ExpertProfile:
    profile = expert_of(brand)
    profile.country, profile.business_id = country, siret
    session.get(User, profile.user_id).full_name = name
    session.add(PayoutDetails(expert_id=profile.id, account_holder=name, iban_sealed=seal(iban, "payout-iban"),
                              iban_country=iban[:2], iban_last4=iban[-4:]))
    session.commit()
    return profile


def earning(brand, expert, released: dt.datetime, price: int, commission: int, bonus: int = 0,
             status: EarningStatus = EarningStatus.HELD) -> None:
    EarningFactory(brand=brand, expert=expert, price_cents=price, commission_cents=commission, bonus_cents=bonus,
                   closed_at=released - dt.timedelta(days=8), hold_until=released - dt.timedelta(days=1),
                   status=status)
    if status != EarningStatus.REVERSED:
        LedgerTransactionFactory(movement=ledger.earning(brand.id, expert.id, price, commission, bonus),
                                 created_at=released - dt.timedelta(days=8))
    db.session.commit()


def at(monkeypatch, when: dt.datetime | None) -> None:
    """The ledger's and the payouts' clock read `when` (what they write is dated then); None: the real clock."""
    for module in (books, submission):
        monkeypatch.setattr(module, "utcnow", (lambda when=when: when) if when else utcnow)


def release(monkeypatch, when: dt.datetime) -> None:
    at(monkeypatch, when)
    earnings.release_due(now=when)


def pay(monkeypatch, finance: tuple[User, User], when: dt.datetime) -> None:
    at(monkeypatch, when)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    assert settlement.confirm_sepa(finance[1], batch.id) >= 1


def build(session, monkeypatch) -> Books:
    brand = BrandFactory(name="Atelier", price_cents=1000)
    session.commit()
    camille = expert(session, brand, "Camille Martin", "FR", "73282932000074", CAMILLE_IBAN)
    sacha = expert(session, brand, "Sacha Peeters", "BE", None, SACHA_IBAN)
    finance = (UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE))
    session.commit()

    def day(year, month, d, hour=12, minute=0):
        return dt.datetime(year, month, d, hour, minute, tzinfo=UTC)

    earning(brand, camille, day(2024, 12, 1), 800, 160)
    earning(brand, camille, day(2025, 3, 20), 1000, 200, bonus=100)
    earning(brand, camille, day(2025, 6, 10), 2000, 400)
    earning(brand, sacha, day(2025, 8, 1), 3000, 600)
    earning(brand, camille, day(2025, 12, 20), 500, 100)
    earning(brand, camille, day(2025, 5, 1), 9000, 1800, status=EarningStatus.REVERSED)

    release(monkeypatch, day(2024, 12, 1))
    pay(monkeypatch, finance, day(2024, 12, 10))
    release(monkeypatch, day(2025, 3, 20))
    pay(monkeypatch, finance, day(2025, 3, 31, 22, 30))  # already 1 April in Paris
    release(monkeypatch, day(2025, 6, 10))
    pay(monkeypatch, finance, day(2025, 6, 15))
    release(monkeypatch, day(2025, 8, 1))
    pay(monkeypatch, finance, day(2025, 8, 5))
    pays_credit(brand, 150)  # the FAQ bot resolved a chat with Camille's answer on 1 July
    resolved(brand, entry(brand, camille), at=day(2025, 7, 1, 10))
    at(monkeypatch, day(2025, 7, 1, 10, 5))
    assert credits.record_credits(now=day(2025, 7, 1, 10, 5)) == 1
    at(monkeypatch, day(2025, 9, 1))
    assert credits.release_due(now=day(2025, 9, 1)) == 1
    pay(monkeypatch, finance, day(2025, 9, 10))
    release(monkeypatch, day(2025, 12, 20))
    pay(monkeypatch, finance, day(2025, 12, 31, 23, 30))  # already 2026 in Paris
    at(monkeypatch, None)
    return Books(camille, sacha, finance)
