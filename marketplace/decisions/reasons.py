"""What each recorded decision is, who reviews it, and its reason in plain words in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

WORK = "ops"  # decisions about work are reviewed by operations staff
PAY = "finance"  # decisions about pay by finance staff


@dataclass(frozen=True)
class Reason:
    kind: str  # what happened to the expert: turned_away, not_offered, released, earning_held, rating_counted
    team: str  # the role that answers a review of it
    title: object
    text: object  # the reason, with the decision's parameters in force filled in


REASONS: dict[str, Reason] = {
    "missed_offers": Reason(
        "turned_away", WORK, _l("Set away: offers missed"),
        _l("%(missed_offers)d chat offers in a row expired without an answer; the limit is %(limit)d, so the "
           "system set you away (no new offers) so that visitors are not kept waiting. You may go online again "
           "whenever you want.")),
    "heartbeat_lost": Reason(
        "turned_away", WORK, _l("Set away: phone silent"),
        _l("Your phone sent no signal for more than %(grace_seconds)d seconds, so the system set you away (no new "
           "offers). You become available again as soon as your phone reconnects.")),
    "not_offered": Reason(
        "not_offered", WORK, _l("Chats offered to other experts"),
        _l("In the hour before this decision you were online for %(online_minutes)d minutes. In that time "
           "%(offers_to_others)d chats of this brand were offered to other experts, and %(offers_to_you)d to you. "
           "Each chat is offered to one expert at a time: among those approved by the brand, available and with "
           "room for one more chat, the one with the fewest open chats, then the one who has waited longest since "
           "their last offer. For those chats you were not first, or you were away, had as many open chats as "
           "your limit allows, or had declined them.")),
    "released": Reason(
        "released", WORK, _l("Released by the planner"),
        _l("Demand fell below what the experts online could handle (%(desired)d wanted, %(online)d online), so "
           "the planner ended your invitation early. It releases the least loaded first: you had %(open_chats)d "
           "open chats. You keep your open chats.")),
    "fraud_check": Reason(
        "earning_held", PAY, _l("Earning held for a check"),
        _l("An automated check flagged this chat (%(checks)s), so its earning stays held until a person from "
           "finance looks at it, instead of becoming payable after %(hold_days)d days.")),
    "rating_counted": Reason(
        "rating_counted", WORK, _l("Rating counted"),
        _l("A visitor rated this chat %(rating)d out of 5. It counts in your average rating, which ranks "
           "invitations and decides rating bonuses.")),
}

# The fraud checks' names (payouts/earnings/services.py keeps the checks themselves).
CHECKS = {
    "short_chat": _l("implausibly short chat"),
    "repeat_pair": _l("same visitor again and again"),
    "same_network": _l("visitor on the expert's network"),
}


def team_of(reason_code: str) -> str:
    return REASONS[reason_code].team if reason_code in REASONS else WORK


def title_of(reason_code: str) -> str:
    return str(REASONS[reason_code].title) if reason_code in REASONS else reason_code


def text_of(reason_code: str, params: dict[str, Any]) -> str:
    """The reason in plain words; the code alone for a decision recorded by a newer version."""
    reason = REASONS.get(reason_code)
    if reason is None:
        return reason_code
    values = dict(params)
    if reason_code == "fraud_check":
        values["checks"] = ", ".join(str(CHECKS.get(code, code)) for code in params.get("checks", []))
    try:
        return str(reason.text) % values
    except (KeyError, TypeError, ValueError):
        return str(reason.title)
