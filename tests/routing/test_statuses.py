"""The conversation model's statuses are the lifecycle's (core/lifecycles.py), and it moves only as that allows."""

from __future__ import annotations

import pytest

from marketplace.core import lifecycles
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    ENDED_STATUSES,
    LIVE_STATUSES,
    MAY_LEAVE_MESSAGE,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    UNANSWERED_STATUSES,
    ConversationStatus,
    status_after,
)


def test_the_models_statuses_are_the_lifecycles():
    assert [status.value for status in ConversationStatus] == list(lifecycles.CONVERSATION_STATUSES)


def test_the_models_groups_are_the_lifecycles():
    for group, names in [(OPEN_STATUSES, lifecycles.CONVERSATION_OPEN),
                         (LIVE_STATUSES, lifecycles.CONVERSATION_LIVE),
                         (ASSIGNED_STATUSES, lifecycles.CONVERSATION_ASSIGNED),
                         (QUEUED_STATUSES, lifecycles.CONVERSATION_QUEUED),
                         (ENDED_STATUSES, lifecycles.CONVERSATION_ENDED),
                         (UNANSWERED_STATUSES, lifecycles.CONVERSATION_UNANSWERED),
                         (MAY_LEAVE_MESSAGE, lifecycles.CONVERSATION_MAY_LEAVE_MESSAGE)]:
        assert [status.value for status in group] == list(names)
        assert all(isinstance(status, ConversationStatus) for status in group)


def test_a_status_moves_as_the_lifecycle_allows_and_no_other_way():
    assert status_after(ConversationStatus.OFFERED, "accept") is ConversationStatus.ACTIVE
    assert status_after(lifecycles.CONVERSATION_ARRIVING, "refuse") is ConversationStatus.CAPPED
    with pytest.raises(ValueError, match="accept"):
        status_after(ConversationStatus.WAITING, "accept")
