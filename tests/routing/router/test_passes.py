"""A routing pass makes several decisions in one transaction, each the one a transaction of its own would make."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from marketplace.brands import rates
from marketplace.brands.models import RateCard
from marketplace.core import clock
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.notifications.models import PushSubscription
from marketplace.routing import events
from marketplace.routing.models import Conversation, ConversationStatus, ExpertLoad, Offer, OfferStatus
from marketplace.routing.router import decisions, loads
from tests.routing.conftest import arrive, online_expert


@pytest.fixture(autouse=True)
def unhurried(monkeypatch):
    """A loaded test machine must not end a pass on time: these tests look at what one pass decides."""
    monkeypatch.setattr(decisions, "PASS_SECONDS", 60.0)


def waiting_queue(brand, experts, count: int) -> list[Conversation]:
    """`count` conversations waiting while the experts are away; then the experts come back (nothing routed yet)."""
    for expert in experts:
        db.session.get(ExpertPresence, expert.id).status = PresenceStatus.AWAY
    db.session.commit()
    queue = [conversation for conversation in (arrive(brand) for _ in range(count))
             if conversation.status == ConversationStatus.WAITING]  # the rest were turned away at the door
    for expert in experts:
        db.session.get(ExpertPresence, expert.id).status = PresenceStatus.AVAILABLE
    db.session.commit()
    return queue


def offered_to(conversation_ids: list[int]) -> list[int | None]:
    pending = dict(db.session.execute(sa.select(Offer.conversation_id, Offer.expert_id)
                                      .where(Offer.status == OfferStatus.PENDING)).tuples().all())
    return [pending.get(conversation_id) for conversation_id in conversation_ids]


def test_one_pass_offers_the_queue_in_rule_5s_order(session, brand):
    """Least loaded first, never offered before the idle, longest idle first; an expert never gets a conversation
    they were offered before; full experts get nothing more: all within one pass."""
    brand.expert_concurrency = 2
    fresh, idle_long, busy = online_expert(brand), online_expert(brand), online_expert(brand)
    now = utcnow()
    session.get(ExpertLoad, idle_long.id).last_offered_at = now - dt.timedelta(hours=1)
    session.get(ExpertLoad, busy.id).last_offered_at = now - dt.timedelta(hours=2)
    queue = waiting_queue(brand, [fresh, idle_long, busy], 6)
    assert len(queue) == 6
    # The busy expert holds one chat; the fresh one declined the second conversation before.
    session.get(ExpertLoad, busy.id).open_chats = 1
    session.add(Offer(conversation_id=queue[1].id, brand_id=brand.id, expert_id=fresh.id,
                      status=OfferStatus.DECLINED, created_at=now, expires_at=now, decided_at=now))
    session.commit()

    made, more = decisions._decide(brand.id)

    ids = [conversation.id for conversation in queue]
    # 1: fresh (never offered); 2: not fresh (declined it), idle_long (load 0); then everyone has load 1 and the
    # longest idle is busy (2 h), then fresh, then idle_long (offered in this pass, in that order); busy is full.
    expected = [fresh.id, idle_long.id, busy.id, fresh.id, idle_long.id, None]
    assert [decision.expert_id for decision in made] == expected[:5]
    assert offered_to(ids) == expected
    assert more is False  # nobody has room left: the sixth waits
    assert session.get(Conversation, ids[5]).status == ConversationStatus.WAITING
    db.session.expire_all()
    assert [session.get(ExpertLoad, expert.id).pending_offers for expert in (fresh, idle_long, busy)] == [2, 2, 1]


def test_a_pass_stops_at_its_size_and_the_next_one_goes_on(session, brand, monkeypatch):
    monkeypatch.setattr(decisions, "DECISIONS_PER_PASS", 3)
    experts = [online_expert(brand) for _ in range(8)]
    queue = waiting_queue(brand, experts, 7)
    first, more = decisions._decide(brand.id, 3)
    assert (len(first), more) == (3, True)
    rest = decisions.route_brand(brand.id)
    assert len(rest) == 4
    assert [decision.conversation_id for decision in first + rest] == [conversation.id for conversation in queue]
    assert len({decision.expert_id for decision in first + rest}) == 7
    assert loads.counters_match() == []


def test_an_expert_the_pass_did_not_read_is_found_in_the_database(session, brand, monkeypatch):
    """Every expert the pass read was offered the head of the queue already: the pick goes to the database,
    which sees the loads the pass stepped up so far, and the pass goes on."""
    monkeypatch.setattr(decisions, "CANDIDATES_BEYOND_PASS", 0)
    experts = [online_expert(brand) for _ in range(4)]
    now = utcnow()
    for rank, expert in enumerate(experts):
        session.get(ExpertLoad, expert.id).last_offered_at = now - dt.timedelta(hours=10 - rank)
    queue = waiting_queue(brand, experts, 2)
    # The pass reads the 2 longest idle; both declined the first conversation before.
    for expert in experts[:2]:
        session.add(Offer(conversation_id=queue[0].id, brand_id=brand.id, expert_id=expert.id,
                          status=OfferStatus.DECLINED, created_at=now, expires_at=now, decided_at=now))
    session.commit()

    made, _ = decisions._decide(brand.id)

    assert [decision.expert_id for decision in made] == [experts[2].id, experts[0].id]
    assert loads.counters_match() == []


def test_a_pass_that_fails_before_its_commit_leaves_every_conversation_waiting(session, brand, monkeypatch):
    experts = [online_expert(brand) for _ in range(3)]
    queue = waiting_queue(brand, experts, 3)

    def broken(*args):
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(events, "offers_made", broken)
    with pytest.raises(RuntimeError):
        decisions.route_brand(brand.id)
    db.session.expire_all()
    assert {session.get(Conversation, conversation.id).status for conversation in queue} == {
        ConversationStatus.WAITING}
    assert session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0
    assert {(load.pending_offers, load.last_offered_at) for load in session.scalars(sa.select(ExpertLoad))} == {
        (0, None)}
    monkeypatch.undo()
    assert len(decisions.route_brand(brand.id)) == 3
    assert loads.counters_match() == []


def test_a_brand_at_its_expert_limit_keeps_to_the_experts_it_uses_within_a_pass(session, brand):
    """Rule 4's limit on experts: once the pass has used as many as the brand allows, the rest go to them."""
    brand.max_active_experts = 2
    brand.expert_concurrency = 3
    experts = [online_expert(brand) for _ in range(5)]
    queue = waiting_queue(brand, experts, 6)
    assert len(queue) == 6
    made, _ = decisions._decide(brand.id)
    assert len(made) == 6
    # Without the limit the least loaded would come first: all five experts.
    assert sorted(Counter(decision.expert_id for decision in made).values()) == [3, 3]
    assert loads.counters_match() == []


def test_a_pass_past_its_time_stops_deciding_and_says_more_may_go(session, brand, monkeypatch):
    monkeypatch.setattr(decisions, "PASS_SECONDS", 0.0)
    experts = [online_expert(brand) for _ in range(3)]
    queue = waiting_queue(brand, experts, 3)
    # The last one knows the queue is empty: it read past the end.
    assert [(len(made), more) for made, more in (decisions._decide(brand.id) for _ in range(3))] == [
        (1, True), (1, True), (1, False)]
    assert set(offered_to([conversation.id for conversation in queue])) == {expert.id for expert in experts}


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL of every statement run while inside."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_a_pass_pushes_its_offers_to_the_experts_with_a_device_and_reads_the_queue_once(session, brand, monkeypatch):
    """Whether each expert takes Web Push comes with the pass's read of the experts: the offer is pushed to the one
    with a device only, and no statement of the pass asks for devices or reads past the end of a short queue."""
    with_device, without = online_expert(brand), online_expert(brand)
    session.add(PushSubscription(user_id=with_device.user_id, endpoint="https://push.example/one", p256dh="k",
                                 auth="a"))
    session.commit()
    queue = waiting_queue(brand, [with_device, without], 2)
    pushed: list[int] = []
    monkeypatch.setattr(events.notifications, "notify", lambda user_id, kind, *_, **__: pushed.append((user_id, kind)))
    with recorded_statements() as statements:
        made, more = decisions._decide(brand.id)

    assert ({decision.expert_id for decision in made}, more) == ({with_device.id, without.id}, False)
    assert offered_to([conversation.id for conversation in queue]) == [with_device.id, without.id]
    assert pushed == [(with_device.user_id, "offer")]
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM push_subscriptions" in
                s.split("FROM", 1)[-1][:40]]  # no read of its own (the experts' read carries it in a subquery)
    assert sum("FROM conversations" in s and "ORDER BY" in s for s in statements) == 1  # one page of the queue


def test_only_the_conversations_offered_before_have_their_offers_read(session, brand):
    """Rule 5 in a pass: the expert who declined a conversation is not offered it again; a queue of new arrivals
    costs no read of earlier offers."""
    declined, other = online_expert(brand), online_expert(brand)
    queue = waiting_queue(brand, [declined, other], 1)
    now = utcnow()
    session.add(Offer(conversation_id=queue[0].id, brand_id=brand.id, expert_id=declined.id,
                      status=OfferStatus.DECLINED, created_at=now, expires_at=now, decided_at=now))
    session.commit()
    with recorded_statements() as statements:
        made, _ = decisions._decide(brand.id)
        fresh = waiting_queue(brand, [declined, other], 1)
        statements_before = len(statements)
        again, _ = decisions._decide(brand.id)

    assert [decision.expert_id for decision in made] == [other.id]
    assert [(decision.conversation_id, decision.expert_id) for decision in again] == [(fresh[0].id, declined.id)]
    reads_of_offers = [statement for statement in statements
                       if statement.lstrip().startswith("SELECT offers.conversation_id, offers.expert_id")]
    assert len(reads_of_offers) == 1  # the first pass's, for the conversation declined before; none in the second
    assert statements.index(reads_of_offers[0]) < statements_before


def test_the_queue_page_probes_each_conversations_offers_never_scans_them_all(session, brand):
    """Whether a waiting conversation was ever offered is asked of the few rows a page returns, one index probe each:
    PostgreSQL planned the EXISTS it was as a hashed subplan reading every offer ever made, at every pass (0.4 ms a
    pass with 5,000 offers, growing with them), once its statistics said the brand's queue was long."""
    expert = online_expert(brand)
    queue = waiting_queue(brand, [expert], 3)
    now = utcnow()
    session.add_all(Offer(conversation_id=conversation.id, brand_id=brand.id, expert_id=expert.id,
                          status=OfferStatus.DECLINED, created_at=now, expires_at=now, decided_at=now)
                    for conversation in queue[:2])
    # A long queue behind them, every one offered before, and statistics that say so (rolled back with the test).
    behind = session.scalars(sa.insert(Conversation).returning(Conversation.id), [
        {"brand_id": brand.id, "status": ConversationStatus.WAITING, "priority": 0, "visitor_token_hash": f"behind{i}",
         "created_at": now, "queued_at": now + dt.timedelta(seconds=1), "last_activity_at": now}
        for i in range(2000)]).all()
    session.execute(sa.insert(Offer), [
        {"conversation_id": conversation_id, "brand_id": brand.id, "expert_id": expert.id,
         "status": OfferStatus.DECLINED, "created_at": now, "expires_at": now, "decided_at": now}
        for conversation_id in behind])
    session.flush()
    connection = session.connection()
    for table in ("conversations", "offers"):
        connection.exec_driver_sql(f"ANALYZE {table}")
    page = decisions._queue_page().compile(connection)
    values = page.construct_params({"brand": brand.id, "limit": 16, "offset": 0})
    explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    arguments = tuple(values[name] for name in page.positiontup) if page.positional else values
    plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(f"{explain}{page}", arguments))
    assert "hashed" not in plan.lower() and "SCAN offers" not in plan and "Seq Scan on offers" not in plan, plan
    first = next(decisions._waiting_pages(brand.id, 4))
    assert [(c.id, before) for c, before in first] == [
        (queue[0].id, True), (queue[1].id, True), (queue[2].id, False), (behind[0], True)]


def _statements(connection) -> list[str]:
    seen: list[str] = []
    sa.event.listen(connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_pass_reads_what_its_offers_pay_with_the_brands_lock_for_the_brands_own_day(session, brand, monkeypatch):
    """The card in effect on the brand's local day, read by the statement that locks the brand: a day guessed from
    a timezone not known yet (or changed) is read again for the brand's own."""
    now = utcnow()
    # A timezone whose day is not UTC's now: one of these two always is.
    timezone = "Pacific/Kiritimati" if clock.local_day(now, "Pacific/Kiritimati") != now.date() else "Pacific/Niue"
    brand.timezone = timezone
    local_today = clock.local_day(now, timezone)
    rates.card_in_effect(brand, now).price_cents = 100
    session.add(RateCard(brand_id=brand.id, effective_from=local_today, price_cents=300, commission_bps=0,
                         bonus_rules=[], created_at=now))
    experts = [online_expert(brand) for _ in range(2)]
    waiting_queue(brand, experts, 2)
    paid: list[dict] = []
    offers_made = events.offers_made

    def noting(brand, made, pushed=None, pay=None):
        paid.append(pay or events.offer_pay(brand))
        offers_made(brand, made, pushed, pay)

    monkeypatch.setattr(events, "offers_made", noting)
    monkeypatch.setattr(loads, "_timezones", {})  # the brand's timezone not known yet: UTC's day is tried first
    decisions._decide(brand.id, 1)
    statements = _statements(session.connection())
    decisions._decide(brand.id, 1)  # its timezone known now: the lock's own read is the only one
    assert [pay["amount_cents"] for pay in paid] == [300, 300]
    assert sum("rate_cards" in statement for statement in statements) == 1, statements


def test_a_pass_keeps_its_plans_for_its_own_transaction_only(app, session, brand):
    """On PostgreSQL a pass's queue read has the rest of its statements keep their plans (`plan_cache_mode`), in its
    own transaction: set for it alone (SET LOCAL's `true`), never for the connection the pool hands on."""
    experts = [online_expert(brand) for _ in range(2)]
    waiting_queue(brand, experts, 2)
    connection = session.connection()
    reader = decisions._queue_reader(connection.dialect.name)
    assert len(reader.rows(connection, {"brand": brand.id, "limit": 4, "offset": 0})) == 2
    if connection.dialect.name != "postgresql":
        return
    assert session.execute(sa.text("SHOW plan_cache_mode")).scalar_one() == "force_generic_plan"
    assert ", true) AS set_config" in str(
        reader.statement.compile(connection)), "for this transaction only"
    with db.engine.connect() as other:
        assert other.execute(sa.text("SHOW plan_cache_mode")).scalar_one() == "auto"
