"""factory_boy factories writing through the app's session, one module per domain; import them from here."""

from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.experts import ApprovedExpertFactory, EnrolmentFactory, ExpertFactory
from tests.factories.payouts import (
    EarningFactory,
    LedgerTransactionFactory,
    PayoutBatchFactory,
    RecordedEarningFactory,
    WrittenLedgerTransactionFactory,
)
from tests.factories.routing import ClosedChatFactory, ConversationFactory, MessageFactory, OfferFactory
from tests.factories.shifts import ShiftBookingFactory, ShiftSlotFactory

__all__ = [
    "PASSWORD",
    "ClosedChatFactory",
    "ApprovedExpertFactory",
    "BrandFactory",
    "ConversationFactory",
    "EarningFactory",
    "EnrolmentFactory",
    "ExpertFactory",
    "LedgerTransactionFactory",
    "MembershipFactory",
    "MessageFactory",
    "OfferFactory",
    "PayoutBatchFactory",
    "RecordedEarningFactory",
    "ShiftBookingFactory",
    "ShiftSlotFactory",
    "UserFactory",
    "WrittenLedgerTransactionFactory",
]
