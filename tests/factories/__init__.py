"""factory_boy factories writing through the app's session, one module per domain; import them from here."""

from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.factories.experts import ApprovedExpertFactory, EnrolmentFactory, ExpertFactory
from tests.factories.shifts import ShiftBookingFactory, ShiftSlotFactory

__all__ = [
    "PASSWORD",
    "ApprovedExpertFactory",
    "BrandFactory",
    "EnrolmentFactory",
    "ExpertFactory",
    "MembershipFactory",
    "ShiftBookingFactory",
    "ShiftSlotFactory",
    "UserFactory",
]
