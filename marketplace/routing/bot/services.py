"""The FAQ bot in a conversation: it reads the visitor's messages, answers from the brand's base, and steps aside.

A conversation the brand's bot meets first (`door.enter`) is `bot`: no expert, no place in the brand's count. Each
visitor message there reaches `read_message` once it is stored and committed (`delivery.register_after_stored`). The bot
answers with an entry (labelled as automated: the message's sender is `bot`), or hands the conversation over: on low
confidence, on what a person must answer (an order, a complaint, a request for a person, small talk), when the visitor
says the answer did not help or asks for an expert (a button visible at every moment), and when anything fails: an
error hands over, never leaves the visitor in silence (and `sweep` hands over a message the bot never read, say
after a crash). A visitor who says the answer helped, or asks nothing more within the brand's resolution time, ends
it resolved: not an answered chat, nobody earns it (an expert whose entry it was earns the brand's credit,
payouts/credits/).

Rule 16: the bot writes only while the conversation is its own. Its message is numbered on the conversation row under
the condition that the status is still `bot` (chat/messages.py), and a hand-over takes the same row's lock, so once
a person may have it no bot message can be stored, whatever the timing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace.core.faq import text as faq_text
from marketplace.database import db, end_read, unit_of_work, utcnow
from marketplace.errors import Conflict
from marketplace.faq import answering
from marketplace.faq.models import DEFAULT_RESOLVE_AFTER_MINUTES, LANGUAGES, FaqSettings
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.chat.messages import post_message
from marketplace.routing.models import Attachment, Conversation, ConversationStatus, EndReason, Message, Sender
from marketplace.routing.router.admission import end_with_bot, hand_over, lock_conversation
from marketplace.routing.router.admission import refusal as door_refusal
from marketplace.routing.router.decisions import route_brand

log = logging.getLogger("marketplace.routing.bot")

# A visitor message the bot has not read this long after it was stored is handed over by the sweep.
UNREAD_SECONDS = 30
ANSWER_CLIENT_ID = "bot-answer-"  # the bot's answers' client ids: a messaging app shows them with reply buttons

# The visitor's own words after an answer: it helped, or it did not (the buttons say the same).
_YES = re.compile(r"^(oui|yes|yep|yeah|ok|okay|parfait|super|genial|top|merci|thanks|thank you|ca m aide|"
                  r"c est bon|cela m aide|that helps|that helped|it helped|perfect|great)( merci| thanks| beaucoup)*$")
_NO = re.compile(r"^(non|no|nope|pas vraiment|not really|pas du tout|not at all|ca ne m aide pas|"
                 r"that doesn t help|that did not help|it didn t help|no thanks|non merci)$")


class Reason:
    """Why the bot handed over, beyond the answering's own reasons (faq answering: low_confidence, ...)."""

    NOT_HELPFUL = "not_helpful"  # the visitor said the answer did not help
    VISITOR_ASKED = "visitor_asked"  # the visitor tapped "Talk to an expert"
    SECOND_UNANSWERED = "second_unanswered"  # after an answer, a question it cannot answer
    FILE = "file"  # the visitor sent a photo or a document
    ERROR = "error"  # the bot failed: a person takes it rather than silence
    ALL = (NOT_HELPFUL, VISITOR_ASKED, SECOND_UNANSWERED, FILE, ERROR)


@dataclass(frozen=True)
class _Read:
    brand_id: int
    body: str
    locale: str | None
    answered_before: bool
    awaiting_feedback: int | None  # the last turn's id, when it was an answer the visitor has not judged yet
    has_file: bool  # the message carries a photo or a document: a person looks at it
    done: bool  # this message was read already, or the conversation is no longer the bot's


def _reading(conversation_id: int, visitor_seq: int) -> _Read | None:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    message = db.session.scalar(sa.select(Message).where(Message.conversation_id == conversation_id,
                                                         Message.seq == visitor_seq))
    turns = list(db.session.scalars(sa.select(BotTurn).where(BotTurn.conversation_id == conversation_id)
                                    .order_by(BotTurn.visitor_seq)))
    done = (conversation.status != ConversationStatus.BOT or message is None or message.sender != Sender.VISITOR
            or any(turn.visitor_seq >= visitor_seq for turn in turns))
    last = turns[-1] if turns else None
    awaiting = last.id if last is not None and last.outcome == TurnOutcome.ANSWERED and last.helpful is None else None
    has_file = message is not None and db.session.scalar(
        sa.select(sa.exists().where(Attachment.message_id == message.id)))
    read = _Read(conversation.brand_id, message.body if message is not None else "", conversation.locale,
                 any(turn.outcome == TurnOutcome.ANSWERED for turn in turns), awaiting, bool(has_file), done)
    end_read()
    return read


def read_message(conversation_id: int, visitor_seq: int) -> None:
    """The bot reads the visitor's message `visitor_seq`: answers it, takes it as the visitor's verdict on the last
    answer, or hands over. Any failure hands over (reason `error`); never raises."""
    try:
        _read(conversation_id, visitor_seq)
    except Exception:
        log.exception("the bot failed on conversation %s; handing over", conversation_id)
        db.session.rollback()
        try:
            give_to_expert(conversation_id, Reason.ERROR, visitor_seq=visitor_seq)
        except Exception:
            db.session.rollback()
            log.exception("handing conversation %s over failed too; the sweep will", conversation_id)


def _read(conversation_id: int, visitor_seq: int) -> None:
    read = _reading(conversation_id, visitor_seq)
    if read is None or read.done:
        return
    if read.has_file:
        give_to_expert(conversation_id, Reason.FILE, visitor_seq=visitor_seq)
        return
    words = faq_text.fold(read.body)
    if words in _talk_to_expert():
        give_to_expert(conversation_id, Reason.VISITOR_ASKED, visitor_seq=visitor_seq,
                       unhelpful_turn=read.awaiting_feedback)
        return
    if read.awaiting_feedback is None and not read.answered_before and _YES.match(words):
        # "Yes" with nothing to judge: a late tap on an answer of a chat already resolved (a messaging app's button
        # starts a new conversation), or thanks. No question: the bot says it is glad, and nobody is called.
        close_without_question(conversation_id, visitor_seq)
        return
    if read.awaiting_feedback is not None:
        if _YES.match(words):
            resolve(conversation_id, helpful_turn=read.awaiting_feedback, visitor_seq=visitor_seq)
            return
        if _NO.match(words):
            give_to_expert(conversation_id, Reason.NOT_HELPFUL, visitor_seq=visitor_seq,
                           unhelpful_turn=read.awaiting_feedback)
            return
    found = answering.answer(read.brand_id, read.body)
    if found.entry is None:
        reason = found.reason
        if reason in ("low_confidence", "off_topic") and read.answered_before:
            reason = Reason.SECOND_UNANSWERED
        give_to_expert(conversation_id, reason, visitor_seq=visitor_seq, entry_id=found.best_entry_id,
                       confidence=found.confidence)
        return
    _answer(conversation_id, visitor_seq, found)


def _answer(conversation_id: int, visitor_seq: int, found: answering.Answer) -> None:
    """Write the entry's answer, labelled as the bot's, while the conversation is still the bot's (checked under its
    lock, taken in the router's order; the message's numbering checks it again)."""
    try:
        with unit_of_work():
            conversation, _load, _brand = lock_conversation(conversation_id, utcnow())
            if conversation.status != ConversationStatus.BOT or _turn_recorded(conversation_id, visitor_seq):
                return  # handed over meanwhile (a person has it: the bot says nothing, rule 16), or read already
            turn = BotTurn(conversation_id=conversation_id, brand_id=conversation.brand_id, visitor_seq=visitor_seq,
                           outcome=TurnOutcome.ANSWERED, reason="answered", entry_id=found.entry["id"],
                           confidence=found.confidence)
            db.session.add(turn)
            db.session.flush()
            posted = post_message(conversation_id, Sender.BOT, f"{ANSWER_CLIENT_ID}{visitor_seq}",
                                  found.entry["answer"])
            turn.bot_seq = posted.message.seq
    except Conflict:
        # No longer the bot's (the numbering found it so), or its message was refused (a messaging app's monthly
        # budget): a person then, never silence.
        give_to_expert(conversation_id, Reason.ERROR, visitor_seq=visitor_seq)


def give_to_expert(conversation_id: int, reason: str, *, visitor_seq: int | None = None, entry_id: int | None = None,
                   confidence: float | None = None, unhelpful_turn: int | None = None) -> bool:
    """Hand the conversation over to a person: the bot says so, and the door lets it in (or refuses it as capped, as
    it would a newcomer); routed once committed. False when it was no longer the bot's (a second tap, a race)."""
    with unit_of_work():
        # The router's order: the brand's lock, then the conversation's (hand_over takes them again, held already).
        now = utcnow()
        conversation, load, brand = lock_conversation(conversation_id, now)
        if conversation.status != ConversationStatus.BOT:
            return False
        refused = door_refusal(load, brand, now) is not None  # what hand_over will find, under the same lock
        seq = conversation.last_seq if visitor_seq is None else visitor_seq
        locale = _language(conversation, seq)
        if unhelpful_turn is not None:
            db.session.execute(sa.update(BotTurn).where(BotTurn.id == unhelpful_turn).values(helpful=False))
        if not _turn_recorded(conversation_id, seq):
            db.session.add(BotTurn(conversation_id=conversation_id, brand_id=conversation.brand_id, visitor_seq=seq,
                                   outcome=TurnOutcome.HANDED_OVER, reason=reason[:30], entry_id=entry_id,
                                   confidence=confidence))
        with force_locale(locale):  # never a promise the door is about to break (rule 17)
            line = (_("No expert can take your chat right now: you may leave a message instead.") if refused
                    else _("I am passing you to an expert, who will answer you here."))
        _say(conversation_id, f"bot-handover-{seq}", line)
        moved = hand_over(conversation_id)
        brand_id, let_in = conversation.brand_id, moved is not None and moved.status == ConversationStatus.WAITING
    if let_in:
        route_brand(brand_id)
    return True


def _say(conversation_id: int, client_id: str, line: str) -> None:
    """The bot's own line (a hand-over, thanks), in a savepoint: when it cannot go out (a messaging app's budget held
    it), what it announces happens all the same."""
    try:
        with db.session.begin_nested():
            post_message(conversation_id, Sender.BOT, client_id, line)
    except Conflict:
        log.warning("the bot's line in conversation %s was refused; going on without it", conversation_id)


def close_without_question(conversation_id: int, visitor_seq: int) -> bool:
    """The visitor wrote only thanks or "yes", with no answer of the bot to judge: the bot says it is glad and the
    chat ends (`left`: nothing was asked, so nothing was resolved). False when it was no longer the bot's."""
    with unit_of_work():
        conversation, _load, _brand = lock_conversation(conversation_id, utcnow())
        if conversation.status != ConversationStatus.BOT:
            return False
        with force_locale(_language(conversation, visitor_seq)):
            line = _("Glad I could help. Ask again here whenever you need.")
        _say(conversation_id, f"bot-resolved-{visitor_seq}", line)
        end_with_bot(conversation_id, EndReason.LEFT)
    return True


def _turn_recorded(conversation_id: int, visitor_seq: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(BotTurn.conversation_id == conversation_id,
                                                         BotTurn.visitor_seq == visitor_seq)))


def resolve(conversation_id: int, *, helpful_turn: int | None = None, visitor_seq: int | None = None) -> bool:
    """The visitor says the answer helped: the bot thanks them and the conversation ends resolved (confirmed).
    False when it was no longer the bot's."""
    with unit_of_work():
        conversation, _load, _brand = lock_conversation(conversation_id, utcnow())
        if conversation.status != ConversationStatus.BOT:
            return False
        turn_id = helpful_turn if helpful_turn is not None else _awaiting_feedback(conversation_id)
        if turn_id is None:
            raise Conflict(_("The bot has not answered a question yet."), "helpful")
        db.session.execute(sa.update(BotTurn).where(BotTurn.id == turn_id).values(helpful=True))
        seq = conversation.last_seq if visitor_seq is None else visitor_seq
        with force_locale(_language(conversation, seq)):
            line = _("Glad I could help. Ask again here whenever you need.")
        _say(conversation_id, f"bot-resolved-{seq}", line)
        end_with_bot(conversation_id, EndReason.BOT_CONFIRMED)
    return True


def _awaiting_feedback(conversation_id: int) -> int | None:
    last = db.session.scalar(sa.select(BotTurn).where(BotTurn.conversation_id == conversation_id)
                             .order_by(BotTurn.visitor_seq.desc()).limit(1))
    if last is None or last.outcome != TurnOutcome.ANSWERED:
        return None
    return last.id


def feedback(conversation_id: int, helpful: bool) -> None:
    """The visitor's answer to "Did this answer your question?": yes resolves it, no hands it over. Conflict (naming
    `helpful`) when the bot no longer has the conversation, or has not answered yet."""
    if helpful:
        done = resolve(conversation_id)
    else:
        turn_id = _awaiting_feedback(conversation_id)
        end_read()
        if turn_id is None:
            raise Conflict(_("The bot has not answered a question yet."), "helpful")
        done = give_to_expert(conversation_id, Reason.NOT_HELPFUL, unhelpful_turn=turn_id)
    if not done:
        raise Conflict(_("The automated assistant no longer has this chat."), "helpful")


def _language(conversation: Conversation, seq: int) -> str:
    """The visitor's language for the bot's own lines: their message's, else their page's."""
    body = db.session.scalar(sa.select(Message.body).where(Message.conversation_id == conversation.id,
                                                           Message.seq <= seq, Message.sender == Sender.VISITOR,
                                                           Message.body != "")
                             .order_by(Message.seq.desc()).limit(1))
    page = "fr" if (conversation.locale or "").lower().startswith("fr") else "en"
    return guess_language(body, page) if body else page


def _talk_to_expert() -> set[str]:
    """"Talk to an expert" as the widget's button says it and a messaging app's reply button sends it back (its title
    is the customer's message): folded, in each language, from the catalogue the buttons are drawn from."""
    found = set()
    for lang in LANGUAGES:
        with force_locale(lang):
            found.add(faq_text.fold(_("Talk to an expert")))
    return found


def asks_feedback(client_id: str) -> bool:
    """Whether a bot message is an answer, which asks "Did this answer your question?" (a messaging app's buttons)."""
    return client_id.startswith(ANSWER_CLIENT_ID)


def feedback_buttons(answer: str) -> list[tuple[str, str]]:
    """The reply buttons under an answer on a messaging app, `(id, title)`, in the answer's language: the customer's
    tap sends the title back, which the bot reads as the widget's buttons."""
    with force_locale(guess_language(answer)):
        return [("bot_yes", _("Yes")), ("bot_expert", _("Talk to an expert"))]


def guess_language(body: str, fallback: str = "fr") -> str:
    """fr or en: the language the text is written in (core/faq/text.py), else `fallback`."""
    return faq_text.language(body) or fallback


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Resolve the bot's conversations whose visitor asked nothing more for the brand's resolution time after an
    answer (unconfirmed), and hand over any whose visitor message the bot never read (a crash, a lost callback)."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.last_seq, Conversation.last_activity_at,
                  sa.func.coalesce(FaqSettings.resolve_after_minutes,
                                   DEFAULT_RESOLVE_AFTER_MINUTES).label("resolve_after"),
                  sa.select(sa.func.max(BotTurn.visitor_seq)).where(BotTurn.conversation_id == Conversation.id)
                  .scalar_subquery().label("read_seq"),
                  sa.select(sa.func.max(Message.seq)).where(Message.conversation_id == Conversation.id,
                                                            Message.sender == Sender.VISITOR)
                  .scalar_subquery().label("visitor_seq"))
        .outerjoin(FaqSettings, FaqSettings.brand_id == Conversation.brand_id)
        .where(Conversation.status == ConversationStatus.BOT)
    ).all()
    end_read()
    counts = {"resolved": 0, "handed_over": 0}
    for row in rows:
        try:
            outcome = _swept(row, now)
        except Exception:  # one conversation's failure must not hold up the others' hand-overs
            db.session.rollback()
            log.exception("the bot's sweep failed on conversation %s", row.id)
            continue
        if outcome is not None:
            counts[outcome] += 1
    return counts


def _swept(row: sa.Row, now: dt.datetime) -> str | None:
    unread = row.visitor_seq is not None and (row.read_seq is None or row.visitor_seq > row.read_seq)
    if unread and row.last_activity_at + dt.timedelta(seconds=UNREAD_SECONDS) <= now:
        return "handed_over" if give_to_expert(row.id, Reason.ERROR, visitor_seq=row.visitor_seq) else None
    if (unread or row.read_seq is None
            or row.last_activity_at + dt.timedelta(minutes=row.resolve_after) > now):
        return None
    answered = db.session.scalar(sa.select(sa.exists().where(
        BotTurn.conversation_id == row.id, BotTurn.outcome == TurnOutcome.ANSWERED)))
    end_read()
    if answered and end_with_bot(row.id, EndReason.BOT_UNCONFIRMED, now=now,
                                 quiet_since=row.last_activity_at) is not None:
        return "resolved"
    return None
