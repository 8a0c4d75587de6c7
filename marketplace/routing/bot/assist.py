"""The FAQ for the expert: the brand's entries that best match the visitor's last message, one tap from the composer,
and a good answer of theirs proposed as a new entry (the brand approves it; each resolution the bot later makes with
it earns them the brand's credit, payouts/credits/)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.database import db, end_read
from marketplace.faq import answering, entries
from marketplace.faq.models import FaqEntry
from marketplace.routing.bot.services import guess_language
from marketplace.routing.chat import services as chats
from marketplace.routing.models import Message, Sender

SUGGESTIONS = 3


def suggestions(expert_id: int, conversation_id: int) -> dict:
    """`{for_seq, suggestions: [{id, ref, question, answer, confidence}]}` for the visitor's last message of a chat the
    expert holds or held (another's is not found)."""
    conversation = chats.expert_conversation(expert_id, conversation_id)
    last = db.session.execute(
        sa.select(Message.seq, Message.body).where(Message.conversation_id == conversation.id,
                                                   Message.sender == Sender.VISITOR, Message.body != "")
        .order_by(Message.seq.desc()).limit(1)).first()
    brand_id = conversation.brand_id
    end_read()
    if last is None:
        return {"for_seq": None, "suggestions": []}
    return {"for_seq": last.seq, "suggestions": answering.suggestions(brand_id, last.body, SUGGESTIONS)}


def propose(expert_id: int, conversation_id: int, question: str, answer: str, lang: str | None) -> FaqEntry:
    """The expert proposes one of their answers in this chat as an entry of its brand's base (awaiting the brand)."""
    conversation = chats.expert_conversation(expert_id, conversation_id)
    brand_id = conversation.brand_id
    end_read()
    language = lang or guess_language(f"{question} {answer}")
    return entries.propose_entry(brand_id, expert_id, conversation_id, question, answer, language)
