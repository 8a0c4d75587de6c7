"""A conversation's status, end reason and channel as the brand's pages name them (the console's, the contacts')."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.routing.models import Channel, ConversationStatus, EndReason

CHANNEL_LABELS = {
    Channel.WEB: _l("Web chat"),
    Channel.WHATSAPP: "WhatsApp",  # the apps' own names, in every language
    Channel.MESSENGER: "Messenger",
}

STATUS_LABELS = {
    ConversationStatus.WAITING: _l("Waiting"),
    ConversationStatus.OFFERED: _l("Offered to an expert"),
    ConversationStatus.ACTIVE: _l("Under way"),
    ConversationStatus.ASYNCHRONOUS: _l("Visitor away, answered by e-mail"),
    ConversationStatus.CLOSED: _l("Ended"),
    ConversationStatus.ABANDONED: _l("Visitor left"),
    ConversationStatus.MISSED: _l("Not answered in time"),
    ConversationStatus.CAPPED: _l("Refused at the door"),
    ConversationStatus.BOT: _l("With the FAQ bot"),
    ConversationStatus.RESOLVED: _l("Resolved by the FAQ bot"),
}
END_REASON_LABELS = {
    EndReason.EXPERT: _l("Ended by the expert"),
    EndReason.VISITOR: _l("Ended by the visitor"),
    EndReason.INACTIVITY: _l("Ended after inactivity"),
    EndReason.LEFT: _l("The visitor left a message instead"),
    EndReason.MAX_WAIT: _l("Waited longer than the maximum wait"),
    EndReason.CLOSED_HOURS: _l("Outside opening hours"),
    EndReason.MAX_CONCURRENT: _l("Too many chats at once"),
    EndReason.DAILY_CAP: _l("Daily cap reached"),
    EndReason.MONTHLY_BUDGET: _l("Monthly budget reached"),
    EndReason.MAX_ACTIVE_EXPERTS: _l("Too many experts answering at once"),
    EndReason.BOT_CONFIRMED: _l("The visitor said the bot's answer helped"),
    EndReason.BOT_UNCONFIRMED: _l("The visitor asked nothing more after the bot's answer"),
}
