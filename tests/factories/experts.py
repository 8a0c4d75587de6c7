"""Factories of experts: profiles, applied or approved, and their enrolments with brands."""

from __future__ import annotations

import factory

from marketplace.accounts.models import Role
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertProfile, ExpertStatus
from tests.factories.accounts import UserFactory
from tests.factories.base import Base
from tests.factories.brands import BrandFactory


class ExpertFactory(Base):
    class Meta:
        model = ExpertProfile

    user_id = factory.LazyFunction(lambda: UserFactory(role=Role.EXPERT).id)
    display_name = factory.Faker("first_name")
    status = ExpertStatus.APPLIED


class ApprovedExpertFactory(ExpertFactory):
    status = ExpertStatus.APPROVED
    languages = factory.LazyFunction(lambda: ["fr", "en"])


class EnrolmentFactory(Base):
    """An expert's enrolment with a brand; approved unless told otherwise."""

    class Meta:
        model = Enrolment

    expert = factory.SubFactory(ApprovedExpertFactory)
    brand_id = factory.LazyFunction(lambda: BrandFactory().id)
    status = EnrolmentStatus.APPROVED
