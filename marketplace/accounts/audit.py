"""The audit log as people read it: each kind of event and each detail by a name in the reader's language,
and always someone who did it.

Events are stored with plain codes (`payout_batch_approved`, `batch_id`) so that filters, exports and the
API stay stable; pages and the API name them here, when they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User

KIND_NAMES = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed log-in"),
    "logout": _l("Logged out"),
    "password_reset_requested": _l("Password reset asked for"),
    "password_reset": _l("Password reset"),
    "password_changed": _l("Password changed"),
    "session_ended": _l("Device logged out"),
    "other_sessions_ended": _l("Other devices logged out"),
    "user_created": _l("Account created"),
    "signup": _l("Signed up as an expert"),
    "role_changed": _l("Role changed"),
    "skill_created": _l("Skill created"),
    "expert_approve": _l("Expert approved"),
    "expert_reject": _l("Expert application turned down"),
    "expert_suspend": _l("Expert suspended"),
    "expert_reinstate": _l("Expert reinstated"),
    "expert_resubmit": _l("Expert application sent again"),
    "brand_created": _l("Brand opened"),
    "brand_member_set": _l("Brand member added"),
    "brand_member_invited": _l("Brand member invited"),
    "brand_invitation_resent": _l("Invitation sent again"),
    "brand_invitation_revoked": _l("Invitation withdrawn"),
    "brand_invitation_accepted": _l("Invitation accepted"),
    "brand_member_role_changed": _l("Brand member's role changed"),
    "brand_member_removed": _l("Brand member removed"),
    "brand_program_changed": _l("Program changed"),
    "brand_closure_added": _l("Closed day added"),
    "brand_closure_removed": _l("Closed day removed"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "rate_scheduled": _l("Rate card scheduled"),
    "rate_cancelled": _l("Rate card cancelled"),
    "quiz_changed": _l("Product quiz changed"),
    "quiz_submitted": _l("Product quiz taken"),
    "enrolment_applied": _l("Applied to a brand"),
    "enrolment_approve": _l("Approved by a brand"),
    "enrolment_reject": _l("Turned down by a brand"),
    "enrolment_remove": _l("Removed by a brand"),
    "shift_slot_cancelled": _l("Shift cancelled"),
    "left_message_replied": _l("Left message answered"),
    "rating_contest_kept": _l("Contested rating kept"),
    "rating_contest_removed": _l("Contested rating removed"),
    "contacts_merged": _l("Contacts merged"),
    "contact_erased": _l("Contact erased on request"),
    "earning_disputed": _l("Earning disputed"),
    "earning_released": _l("Earning released after review"),
    "earning_reversed": _l("Earning reversed"),
    "payout_batch_created": _l("Batch drafted"),
    "payout_batch_approved": _l("Batch approved"),
    "payout_batch_cancelled": _l("Batch cancelled"),
    "payout_batch_submitted": _l("Batch submitted"),
    "payout_batch_finished": _l("Batch finished"),
    "payout_batch_closed": _l("Batch closed"),
    "payout_sepa_confirmed": _l("SEPA file executed by the bank"),
    "payout_item_returned": _l("SEPA line returned by the bank"),
    "payout_item_reversed": _l("Transfer reversed at the provider"),
    "payout_details_read": _l("Payout details read"),
    "payout_details_changed": _l("Payout details changed"),
    "tax_threshold_added": _l("Tax ceiling amount added"),
    "expert_data_exported": _l("Expert data downloaded"),
    "expert_account_closed": _l("Expert account closed"),
    "decision_review_requested": _l("Review of a decision asked for"),
    "decision_review_answered": _l("Review of a decision answered"),
}

# Who acted when an event has no person behind it.
NOBODY_LOGGED_IN = _l("someone not logged in")
ACTORS_WITHOUT_ACCOUNT = {
    "login_failed": NOBODY_LOGGED_IN,
    "password_reset_requested": NOBODY_LOGGED_IN,
    "payout_item_reversed": _l("the payment provider"),
}
SYSTEM = _l("the system")

DETAIL_NAMES = {
    "amount_cents": _l("Amount (cents)"),
    "batch_id": _l("Batch"),
    "bookings": _l("Bookings"),
    "brand_id": _l("Brand"),
    "card_id": _l("Rate card"),
    "commission_bps": _l("Commission (basis points)"),
    "contact_id": _l("Contact"),
    "contest_id": _l("Rating contest"),
    "conversation_id": _l("Chat"),
    "conversations": _l("Chats"),
    "currency": _l("Currency"),
    "day": _l("Day"),
    "devices": _l("Devices"),
    "decision_id": _l("Decision"),
    "earning_id": _l("Earning"),
    "effective_from": _l("From"),
    "ceiling": _l("Ceiling"),
    "email": _l("E-mail"),
    "enrolment_id": _l("Enrolment"),
    "expert_cents": _l("Expert's amount (cents)"),
    "expert_id": _l("Expert"),
    "failed": _l("Failed"),
    "fields": _l("Fields"),
    "files": _l("Files"),
    "iban_last4": _l("IBAN ending"),
    "merged_contact_id": _l("Contact merged"),
    "invitation_id": _l("Invitation"),
    "item_id": _l("Item"),
    "items": _l("Items"),
    "note": _l("Note"),
    "paid": _l("Paid"),
    "previous": _l("Before"),
    "proof": _l("Proved by"),
    "price_cents": _l("Price (cents)"),
    "reason": _l("Reason"),
    "review_id": _l("Review"),
    "role": _l("Role"),
    "session_id": _l("Session"),
    "sessions_ended": _l("Sessions ended"),
    "slot_id": _l("Shift"),
    "status": _l("Status"),
    "token_id": _l("API token"),
    "total_cents": _l("Total (cents)"),
    "transfer": _l("Transfer"),
}


def _humanised(code: str) -> str:
    """`some_new_kind` read as "Some new kind", for a code the tables above do not know yet."""
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def kind_name(kind: str) -> str:
    """What happened, in the reader's language."""
    name = KIND_NAMES.get(kind)
    return str(name) if name is not None else _humanised(kind)


def detail_name(key: str) -> str:
    """A detail's name, in the reader's language."""
    name = DETAIL_NAMES.get(key)
    return str(name) if name is not None else _humanised(key)


def actor_name(kind: str, actor: User | None, detail: Mapping[str, Any] | None = None) -> str:
    """Who did it: the person, else an API token, the payment provider, someone not logged in, or the system."""
    if actor is not None:
        return actor.full_name or actor.email
    token_id = (detail or {}).get("token_id")
    if token_id:
        return gettext("API token #%(id)s", id=token_id)
    return str(ACTORS_WITHOUT_ACCOUNT.get(kind, SYSTEM))


def init_app(app: Flask) -> None:
    """Let every page name events, details and actors."""
    app.jinja_env.globals.update(audit_kind_name=kind_name, audit_detail_name=detail_name,
                                 audit_actor_name=actor_name)
