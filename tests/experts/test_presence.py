"""Presence: who may go online, the heartbeat's grace period, missed offers, and the one read service."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.errors import Forbidden
from marketplace.experts import presence
from marketplace.experts.models import AwayReason, ExpertPresence, ExpertStatus, PresenceStatus
from marketplace.extensions import socketio
from tests.experts.conftest import logged_in
from tests.factories import EnrolmentFactory, ExpertFactory


@pytest.fixture
def online_ready(session) -> User:
    """An approved expert whom one brand approved."""
    return session.get(User, EnrolmentFactory().expert.user_id)


@pytest.mark.parametrize("status", [ExpertStatus.APPLIED, ExpertStatus.REJECTED, ExpertStatus.SUSPENDED])
def test_an_unapproved_expert_cannot_go_online_and_is_told_why(session, status):
    profile = ExpertFactory(status=status)
    with pytest.raises(Forbidden) as refused:
        presence.go_online(session.get(User, profile.user_id))
    assert "cannot do this" in str(refused.value.message) or "under review" in str(refused.value.message)
    assert presence.presence_of(profile.id).status == PresenceStatus.OFFLINE


def test_an_approved_expert_without_a_brand_cannot_go_online(session):
    profile = ExpertFactory(status=ExpertStatus.APPROVED)
    with pytest.raises(Forbidden) as refused:
        presence.go_online(session.get(User, profile.user_id))
    assert "apply to a brand" in str(refused.value.message)


def test_going_online_then_offline_records_a_session(session, online_ready):
    info = presence.go_online(online_ready)
    assert info.status == PresenceStatus.AVAILABLE
    expert_id = info.expert_id
    assert presence.available_expert_ids() >= {expert_id}
    presence.go_offline(online_ready)
    intervals = presence.online_intervals({expert_id}, utcnow() - dt.timedelta(hours=1), utcnow())
    assert len(intervals[expert_id]) == 1 and intervals[expert_id][0][1] is not None
    assert expert_id not in presence.available_expert_ids()


def test_a_silent_phone_turns_away_after_the_grace_then_offline_much_later(app, session, online_ready):
    expert_id = presence.go_online(online_ready).expert_id
    grace = app.config["PRESENCE_GRACE_SECONDS"]
    now = utcnow()
    assert presence.sweep(now + dt.timedelta(seconds=grace - 5)) == {"away": 0, "offline": 0}
    assert presence.presence_of(expert_id).status == PresenceStatus.AVAILABLE
    assert presence.sweep(now + dt.timedelta(seconds=grace + 5)) == {"away": 1, "offline": 0}
    info = presence.presence_of(expert_id)
    assert (info.status, info.away_reason) == (PresenceStatus.AWAY, AwayReason.HEARTBEAT_LOST)
    later = now + dt.timedelta(seconds=grace, minutes=app.config["PRESENCE_OFFLINE_AFTER_MINUTES"] + 1)
    assert presence.sweep(later) == {"away": 0, "offline": 1}
    assert presence.presence_of(expert_id).status == PresenceStatus.OFFLINE


def test_a_heartbeat_after_a_lost_phone_makes_the_expert_available_again(app, session, online_ready):
    expert_id = presence.go_online(online_ready).expert_id
    presence.sweep(utcnow() + dt.timedelta(seconds=app.config["PRESENCE_GRACE_SECONDS"] + 1))
    assert presence.presence_of(expert_id).status == PresenceStatus.AWAY
    assert presence.heartbeat(online_ready).status == PresenceStatus.AVAILABLE


def test_missed_offers_in_a_row_make_the_expert_away_until_they_come_back(app, session, online_ready):
    expert_id = presence.go_online(online_ready).expert_id
    limit = app.config["PRESENCE_MISSED_OFFERS_AWAY"]
    for _ in range(limit - 1):
        presence.record_missed_offer(expert_id)
    presence.record_answered_offer(expert_id)
    for _ in range(limit - 1):
        assert presence.record_missed_offer(expert_id).status == PresenceStatus.AVAILABLE
    info = presence.record_missed_offer(expert_id)
    assert (info.status, info.away_reason) == (PresenceStatus.AWAY, AwayReason.MISSED_OFFERS)
    assert presence.heartbeat(online_ready).status == PresenceStatus.AWAY  # a heartbeat is not "I'm back"
    assert presence.go_online(online_ready).status == PresenceStatus.AVAILABLE


def test_the_snapshot_reads_experts_never_seen_as_offline(session, online_ready):
    expert_id = presence.go_online(online_ready).expert_id
    other = ExpertFactory().id
    snapshot = presence.snapshot({expert_id, other})
    assert snapshot[expert_id].status == PresenceStatus.AVAILABLE
    assert snapshot[other].status == PresenceStatus.OFFLINE


def test_the_heartbeat_travels_over_the_socket(app, client, session, online_ready):
    logged_in(client, online_ready)
    expert_id = presence.go_online(online_ready).expert_id
    before = presence.presence_of(expert_id).last_heartbeat_at
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    answer = sio.emit("heartbeat", {}, callback=True)
    assert answer["status"] == "available"
    assert presence.presence_of(expert_id).last_heartbeat_at > before
    sio.disconnect()


class _PresenceCard(HTMLParser):
    """The texts of the home page's presence card parts (buttons, hints) shown as the page is served."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self._open: bool | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if "data-presence-show" in names:
            self._open = "hidden" not in names
            if self._open:
                self.shown.append("")

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.shown[-1] += data.strip()


def shown_presence_parts(page: str) -> list[str]:
    parser = _PresenceCard()
    parser.feed(page)
    return parser.shown


def test_the_home_page_toggles_presence(client, session, online_ready):
    logged_in(client, online_ready)
    page = client.get("/expert").get_data(as_text=True)
    assert shown_presence_parts(page) == ["Go online"]
    from tests.conftest import csrf_token_from
    token = csrf_token_from(page)
    response = client.post("/expert/presence", data={"csrf_token": token, "status": "available"},
                           follow_redirects=True)
    assert "You are online" in response.get_data(as_text=True)
    assert shown_presence_parts(response.get_data(as_text=True)) == ["Go offline"]


@pytest.mark.parametrize(("reason", "shown"), [
    (AwayReason.MISSED_OFFERS, ["You missed several chats in a row, so we paused new ones.", "I'm back", "Go offline"]),
    (AwayReason.HEARTBEAT_LOST, ["We lost contact with your phone for a while.", "I'm back", "Go offline"]),
    (AwayReason.PAUSED, ["I'm back", "Go offline"]),  # she paused herself: no lost phone to explain
])
def test_the_home_page_shows_an_away_expert_why_and_the_way_back(client, session, online_ready, reason, shown):
    logged_in(client, online_ready)
    expert_id = presence.go_online(online_ready).expert_id
    session.execute(sa.update(ExpertPresence).where(ExpertPresence.expert_id == expert_id)
                    .values(status=PresenceStatus.AWAY, away_reason=reason))
    session.commit()
    page = client.get("/expert").get_data(as_text=True).replace("&#39;", "'")
    assert shown_presence_parts(page) == shown


def test_the_home_page_tells_an_unapproved_expert_why_they_cannot_go_online(client, session):
    profile = ExpertFactory(status=ExpertStatus.APPLIED)
    user = session.get(User, profile.user_id)
    headers = logged_in(client, user)
    response = client.put("/api/v1/experts/me/presence", json={"status": "available"}, headers=headers)
    assert response.status_code == 403 and "under review" in response.json["detail"]
