"""A brand's connected messaging accounts: connected, listed and removed by its admins, found by a webhook.

The access token, the app secret and the verify token are sealed at rest (`sealing.py`) the moment they arrive and
never shown again: a list shows each account's webhook address and its health (when a customer last wrote through
it, the last error Meta gave). Meta's account id (a WhatsApp `phone_number_id`, a Facebook `page_id`) is unique per
kind across brands: a webhook names it, and it alone picks the brand and the app secret that verifies the webhook.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace import sealing
from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import db, end_read, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.routing.channels.graph import GraphError, MessengerClient, WhatsAppClient
from marketplace.routing.models import MESSAGING_CHANNELS, BrandChannel, Channel

log = logging.getLogger("marketplace.routing.channels")

SEALED_FOR = "channel-secrets"  # the sealing purpose of every channel secret
ACCOUNT_FIELD = {Channel.WHATSAPP: "phone_number_id", Channel.MESSENGER: "page_id"}
ACCOUNT_ID_LENGTH = 32
SECRET_LENGTH = 512  # Meta's long-lived tokens are about 200 characters; anything past this is not one
ERROR_LENGTH = 300
INBOUND_PRECISION = dt.timedelta(seconds=30)  # how fresh the health's "last inbound" is kept
PHONE_DIGITS = (6, 15)  # E.164 allows at most 15 digits, country code included


@dataclass(frozen=True)
class Credentials:
    """An account's secrets, unsealed for the moment they are used (a send, a signature check)."""

    channel_id: int
    brand_id: int
    kind: Channel
    account_id: str
    access_token: str = field(repr=False)  # never in a log line or a traceback's locals
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)


def _clean_kind(kind: object) -> Channel:
    try:
        channel = Channel(kind) if isinstance(kind, str) else None
    except ValueError:
        channel = None
    if channel not in MESSAGING_CHANNELS:
        raise InvalidInput(_l("Choose whatsapp or messenger."), "kind")
    return channel


def _clean_account_id(kind: Channel, values: dict[str, object]) -> str:
    field = ACCOUNT_FIELD[kind]
    value = values.get(field)
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > ACCOUNT_ID_LENGTH:
        message = (_l("Give the phone number's id (digits), as WhatsApp Manager shows it.") if kind == Channel.WHATSAPP
                   else _l("Give the Facebook Page's id (digits)."))
        raise InvalidInput(message, field)
    return value


def _clean_secret(values: dict[str, object], field: str) -> str:
    value = values.get(field)
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not value or len(value) > SECRET_LENGTH or any(c.isspace() for c in value):
        raise InvalidInput(_l("Paste the value Meta gave, without spaces."), field)
    return value


def _clean_display_number(kind: Channel, values: dict[str, object]) -> str | None:
    """The number as people dial it, digits only (spaces, dashes, dots and a leading + dropped); None when not
    given (WhatsApp tells it: `learn_display_number`)."""
    value = values.get("display_phone_number")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    digits = "".join(c for c in value if c not in " -.()") if isinstance(value, str) else ""
    digits = digits.removeprefix("+")
    if (kind != Channel.WHATSAPP or not digits.isascii() or not digits.isdigit() or digits.startswith("0")
            or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]):
        raise InvalidInput(_l("Give the WhatsApp number in international form, country code first (digits)."),
                           "display_phone_number")
    return digits


@use_case
def connect_channel(actor: Actor, brand_id: int, values: dict[str, object]) -> BrandChannel:
    """Connect a WhatsApp number or a Facebook Page to the brand (its admins); the secrets are sealed at once.

    A WhatsApp number's `display_phone_number` (digits) may be given; else the caller asks WhatsApp for it once
    this is committed (`learn_display_number`). An account connected already (to this brand or another) is
    refused as a Conflict naming its id's field. Audited as `channel_connected`, without a secret.
    """
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    kind = _clean_kind(values.get("kind"))
    account_id = _clean_account_id(kind, values)
    display_number = _clean_display_number(kind, values)
    secrets = {field: _clean_secret(values, field) for field in ("access_token", "app_secret", "verify_token")}
    taken = db.session.scalar(sa.select(BrandChannel.id).where(BrandChannel.kind == kind,
                                                                BrandChannel.account_id == account_id))
    if taken is not None:
        raise Conflict(_l("This account is connected already."), ACCOUNT_FIELD[kind])
    channel = BrandChannel(brand_id=brand_id, kind=kind, account_id=account_id, display_phone_number=display_number,
                           **{f"{field}_sealed": sealing.seal(value, SEALED_FOR) for field, value in secrets.items()})
    db.session.add(channel)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # connected at the same moment by another request
        raise Conflict(_l("This account is connected already."), ACCOUNT_FIELD[kind]) from None
    accounts.record_audit("channel_connected", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                          channel_id=channel.id, channel_kind=kind.value, account_id=account_id,
                          token_id=getattr(actor, "token_id", None))
    return channel


def learn_display_number(channel_id: int) -> str | None:
    """Ask WhatsApp for a connected number's display number when it is not known (after `connect_channel` commits:
    no transaction waits on Graph) and keep its digits; the number, or None when it stays unknown (Graph refused
    or did not answer: logged, and the widget offers no WhatsApp link until it is known)."""
    channel = db.session.get(BrandChannel, channel_id)
    if channel is None or channel.kind != Channel.WHATSAPP:
        end_read()
        return None
    if channel.display_phone_number is not None:
        known = channel.display_phone_number
        end_read()
        return known
    account = credentials(channel)
    end_read()
    client = client_for(account)
    assert isinstance(client, WhatsAppClient)
    try:
        digits = client.phone_number_info().digits
    except GraphError as error:
        log.warning("display number of WhatsApp number %s not known: %s", account.account_id, error)
        return None
    if not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        log.warning("display number of WhatsApp number %s is not a number: %r", account.account_id, digits)
        return None
    with unit_of_work():
        db.session.execute(sa.update(BrandChannel).where(BrandChannel.id == channel_id)
                           .values(display_phone_number=digits).execution_options(synchronize_session=False))
    return digits


def list_channels(actor: Actor, brand_id: int) -> list[BrandChannel]:
    """The brand's connected accounts, oldest first (any of its people may see them; never their secrets)."""
    brands.get_brand(actor, brand_id)
    found = list(db.session.scalars(sa.select(BrandChannel).where(BrandChannel.brand_id == brand_id)
                                    .order_by(BrandChannel.id)))
    end_read()
    return found


@use_case
def disconnect_channel(actor: Actor, brand_id: int, channel_id: int) -> None:
    """Remove one of the brand's accounts (its admins): its webhooks are refused from now on; its conversations
    stay, and no reply reaches them any more. Another brand's account is not found."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    channel = db.session.scalar(sa.select(BrandChannel).where(BrandChannel.id == channel_id,
                                                               BrandChannel.brand_id == brand_id))
    if channel is None:
        raise NotFound(_l("No such channel."))
    accounts.record_audit("channel_disconnected", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                          channel_id=channel.id, channel_kind=channel.kind.value, account_id=channel.account_id,
                          token_id=getattr(actor, "token_id", None))
    db.session.delete(channel)


def credentials(channel: BrandChannel) -> Credentials:
    return Credentials(channel.id, channel.brand_id, channel.kind, channel.account_id,
                       sealing.unseal(channel.access_token_sealed, SEALED_FOR),
                       sealing.unseal(channel.app_secret_sealed, SEALED_FOR),
                       sealing.unseal(channel.verify_token_sealed, SEALED_FOR))


def for_accounts(kind: Channel, account_ids: tuple[str, ...]) -> dict[str, Credentials]:
    """The connected accounts of `kind` among these ids, by id (a webhook's: an id missing here is unknown)."""
    rows = db.session.scalars(sa.select(BrandChannel).where(BrandChannel.kind == kind,
                                                            BrandChannel.account_id.in_(account_ids))) \
        if account_ids else []
    found = {row.account_id: credentials(row) for row in rows}
    end_read()
    return found


def verify_token_matches(kind: Channel, token: str) -> bool:
    """Meta's subscription handshake: whether `token` is the verify token of one of the connected accounts of
    `kind` (compared in constant time with each)."""
    if not token:
        return False
    sealed = list(db.session.scalars(sa.select(BrandChannel.verify_token_sealed).where(BrandChannel.kind == kind)))
    end_read()
    return any(hmac.compare_digest(sealing.unseal(value, SEALED_FOR).encode(), token.encode()) for value in sealed)


def client_for(account: Credentials) -> WhatsAppClient | MessengerClient:
    """The Graph client of one account, at the configured base address."""
    if account.kind == Channel.WHATSAPP:
        return WhatsAppClient.from_config(current_app.config, account.account_id, account.access_token)
    return MessengerClient.from_config(current_app.config, account.account_id, account.access_token)


def note_inbound(channel_id: int, at: dt.datetime) -> None:
    """Health: a customer wrote through the account (part of the caller's transaction). Noted to the
    `INBOUND_PRECISION`: every customer's message writing the account's one row would make it the row every
    webhook waits on."""
    db.session.execute(sa.update(BrandChannel).where(
        BrandChannel.id == channel_id,
        sa.or_(BrandChannel.last_inbound_at.is_(None), BrandChannel.last_inbound_at < at - INBOUND_PRECISION))
        .values(last_inbound_at=at).execution_options(synchronize_session=False))


def note_error(channel_id: int | None, error: str) -> None:
    """Health: the last error Meta gave for the account (a refused send, a failed status), in its own unit."""
    if channel_id is None:
        return
    with unit_of_work():
        db.session.execute(sa.update(BrandChannel).where(BrandChannel.id == channel_id)
                           .values(last_error=error[:ERROR_LENGTH], last_error_at=utcnow())
                           .execution_options(synchronize_session=False))


HINT_MIN_LENGTH = 12  # a shorter verify token would be half given away by its last characters


def verify_token_hint(channel: BrandChannel) -> str | None:
    """The last four characters of the account's verify token, to tell which one Meta's dashboard should have;
    None for a token too short to show any of it."""
    token = sealing.unseal(channel.verify_token_sealed, SEALED_FOR)
    return token[-4:] if len(token) >= HINT_MIN_LENGTH else None
