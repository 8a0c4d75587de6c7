"""Scheduled work of payouts: earn answered chats, credit the FAQ bot's resolutions, release what is past its
hold, finish submitting batches, check the ledger, tell experts their yearly tax summary is ready."""

from __future__ import annotations

from flask_babel import gettext

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import Role
from marketplace.database import unit_of_work
from marketplace.notifications import services as notifications
from marketplace.payouts.batches import submission
from marketplace.payouts.credits import services as credits
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import checks
from marketplace.payouts.tax import services as tax
from marketplace.scheduler import Job


def check_ledger() -> dict[str, int]:
    """Check the ledger's invariants; every ops user is told at once when anything does not add up."""
    check = checks.check_invariants()
    if check.breaches:
        with unit_of_work():
            for user in accounts.users_with_role(Role.OPS):
                with in_language_of(user):
                    title = gettext("The ledger does not add up")
                    body = "; ".join(check.breaches[:5])
                notifications.notify(user.id, "ledger_breach", title, body, url="/finance/")
    return {"transactions": check.transactions, "breaches": len(check.breaches)}


EARN = Job("payouts-earn", earnings.record_earnings, "interval", {"seconds": 60})
RELEASE = Job("payouts-release", earnings.release_due, "interval", {"minutes": 15})
CREDIT = Job("payouts-faq-credit", credits.record_credits, "interval", {"seconds": 60})
RELEASE_CREDITS = Job("payouts-faq-credit-release", credits.release_due, "interval", {"minutes": 15})
SUBMIT = Job("payouts-resume", submission.resume, "interval", {"seconds": 60})
CHECK = Job("payouts-ledger-check", check_ledger, "interval", {"minutes": 60})
# From 1 to 31 January, the previous year's tax summaries are made known to the experts paid in it (once each).
TAX_SUMMARIES = Job("payouts-tax-summaries", tax.publish_year_summaries, "interval", {"hours": 6})
