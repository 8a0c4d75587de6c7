"""The FAQ bot's figures on the brand's dashboard, measured as the field measures them.

Over the conversations created in a period (the dashboard's day), as the rest of the dashboard counts them:
involvement, the share of them the bot answered first (at least one answered turn); resolution, the involved ones
the bot ended itself (the visitor said its answer helped: confirmed; or asked nothing more: unconfirmed); why it
handed over (each hand-over turn's reason); and the entries that fail most: answers the visitor said did not help,
or after which the conversation went to a person anyway. Every read names the brand: never another brand's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.core.faq import matching
from marketplace.database import db
from marketplace.faq import answering
from marketplace.faq.models import FaqEntry
from marketplace.routing.bot import services as bot
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.models import Conversation, ConversationStatus, EndReason

# Why the bot hands over: the matcher's reasons, then the visitor's and the flow's. Each is shown, at 0 when absent.
HANDOVER_REASONS = (*(reason.value for reason in matching.Reason if reason != matching.Reason.ANSWERED),
                    *bot.Reason.ALL)
FAILING_ENTRIES_SHOWN = 10


@dataclass(frozen=True)
class FailingEntry:
    """An entry whose answers did not settle the question: the visitor said no, or a person was needed after."""

    entry_id: int
    ref: str
    question: str  # its first way of asking
    failures: int
    answers: int  # the bot's answers with it over the period

    @property
    def share(self) -> float:
        """The share of its answers that failed, 0 to 1."""
        return self.failures / self.answers if self.answers else 0.0


@dataclass(frozen=True)
class BotFigures:
    bot_enabled: bool
    conversations: int  # created in the period, refused ones included
    involved: int  # of those, answered by the bot at least once
    resolved_confirmed: int  # of those, ended by the bot: the visitor said its answer helped
    resolved_unconfirmed: int  # ended by the bot: the visitor asked nothing more
    with_bot_now: int  # conversations with the bot at this moment, whenever they began
    handovers: dict[str, int]  # hand-over turns by reason (every known reason present)
    failing_entries: list[FailingEntry]  # the most failing first

    @property
    def involvement_share(self) -> float | None:
        return self.involved / self.conversations if self.conversations else None

    @property
    def resolved(self) -> int:
        return self.resolved_confirmed + self.resolved_unconfirmed

    @property
    def resolution_share(self) -> float | None:
        """The share of the involved conversations the bot ended without a person, 0 to 1."""
        return self.resolved / self.involved if self.involved else None

    @property
    def confirmed_share(self) -> float | None:
        return self.resolved_confirmed / self.involved if self.involved else None

    @property
    def unconfirmed_share(self) -> float | None:
        return self.resolved_unconfirmed / self.involved if self.involved else None

    @property
    def handed_over(self) -> int:
        return sum(self.handovers.values())


def bot_figures(brand_id: int, start: dt.datetime, end: dt.datetime, with_bot_now: int) -> BotFigures | None:
    """The bot's figures over the conversations created in [start, end); None for a brand that never used it
    (its bot is off and it has no bot turn)."""
    enabled = answering.settings_of(brand_id).bot_enabled
    if not enabled and db.session.scalar(sa.select(sa.exists().where(BotTurn.brand_id == brand_id))) is not True:
        return None
    period = (Conversation.brand_id == brand_id, Conversation.created_at >= start, Conversation.created_at < end)
    conversations, involved, confirmed, unconfirmed = _conversations(brand_id, period)
    return BotFigures(bot_enabled=enabled, conversations=conversations, involved=involved,
                      resolved_confirmed=confirmed, resolved_unconfirmed=unconfirmed, with_bot_now=with_bot_now,
                      handovers=_handovers(brand_id, period), failing_entries=_failing_entries(brand_id, period))


def _conversations(brand_id: int, period: tuple) -> tuple[int, int, int, int]:
    """The period's conversations; those the bot answered; of those, the ones it resolved, confirmed or not."""
    answered = sa.exists().where(BotTurn.conversation_id == Conversation.id, BotTurn.brand_id == brand_id,
                                 BotTurn.outcome == TurnOutcome.ANSWERED)
    rows = db.session.execute(
        sa.select(Conversation.status, Conversation.end_reason, sa.func.count(), sa.func.count().filter(answered))
        .where(*period).group_by(Conversation.status, Conversation.end_reason)
    ).all()
    conversations = involved = confirmed = unconfirmed = 0
    for status, reason, count, bot_answered in rows:
        conversations += count
        involved += bot_answered
        if status == ConversationStatus.RESOLVED and reason == EndReason.BOT_CONFIRMED:
            confirmed += bot_answered
        elif status == ConversationStatus.RESOLVED:
            unconfirmed += bot_answered  # bot_unconfirmed: the visitor asked nothing more
    return conversations, involved, confirmed, unconfirmed


def _turns_of_period(brand_id: int, period: tuple) -> list[sa.ColumnElement[bool]]:
    return [BotTurn.brand_id == brand_id,
            BotTurn.conversation_id.in_(sa.select(Conversation.id).where(*period))]


def _handovers(brand_id: int, period: tuple) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(BotTurn.reason, sa.func.count())
        .where(*_turns_of_period(brand_id, period), BotTurn.outcome == TurnOutcome.HANDED_OVER)
        .group_by(BotTurn.reason)
    ).all()
    counts = dict.fromkeys(HANDOVER_REASONS, 0)
    for reason, count in rows:
        counts[reason] = counts.get(reason, 0) + int(count)
    return counts


def _failing_entries(brand_id: int, period: tuple) -> list[FailingEntry]:
    """The entries whose answers failed most: the visitor said no, or a hand-over followed in the conversation.

    A turn is written when the bot reads a visitor message or a request for a person, in that order: a hand-over
    turn of the same conversation with a higher id came after the answer."""
    later = so.aliased(BotTurn)
    handed_over_after = sa.exists().where(later.conversation_id == BotTurn.conversation_id,
                                          later.outcome == TurnOutcome.HANDED_OVER, later.id > BotTurn.id)
    failed = sa.or_(BotTurn.helpful.is_(False), handed_over_after)
    failures = sa.func.count().filter(failed)
    rows = db.session.execute(
        sa.select(FaqEntry.id, FaqEntry.ref, FaqEntry.question, failures.label("failures"), sa.func.count())
        .join(FaqEntry, sa.and_(FaqEntry.id == BotTurn.entry_id, FaqEntry.brand_id == brand_id))
        .where(*_turns_of_period(brand_id, period), BotTurn.outcome == TurnOutcome.ANSWERED)
        .group_by(FaqEntry.id, FaqEntry.ref, FaqEntry.question)
        .having(failures > 0)
        .order_by(failures.desc(), FaqEntry.id)
        .limit(FAILING_ENTRIES_SHOWN)
    ).all()
    return [FailingEntry(entry_id, ref, question.splitlines()[0] if question else "", int(failed_count),
                         int(answers))
            for entry_id, ref, question, failed_count, answers in rows]
