"""Enrolments: an approved expert applies to brands, passes each brand's quiz, and the brand decides."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.database import db
from marketplace.experts.models import Enrolment, EnrolmentStatus


def approved_brand_ids(expert_id: int) -> set[int]:
    """The brands this expert may answer for."""
    return set(db.session.scalars(
        sa.select(Enrolment.brand_id).where(Enrolment.expert_id == expert_id,
                                            Enrolment.status == EnrolmentStatus.APPROVED)
    ))


def is_approved_for(expert_id: int, brand_id: int) -> bool:
    return brand_id in approved_brand_ids(expert_id)
