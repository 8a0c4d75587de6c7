"""A browser's Web Push subscription, checked before it is kept: whoever it is for (a person's device, a visitor's
browser), the same rules decide what is a push service's address and what are a browser's keys."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.errors import InvalidInput

ENDPOINT_LENGTH = 1000
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class BrowserSubscription:
    """What a browser's PushSubscription.toJSON() holds, once checked: the keys stored unpadded."""

    endpoint: str
    p256dh: str
    auth: str


def clean_subscription(endpoint: str, p256dh: str, auth: str) -> BrowserSubscription:
    """Check the endpoint and both keys; InvalidInput names the first field that is wrong."""
    return BrowserSubscription(clean_endpoint(endpoint), clean_key(p256dh, "keys.p256dh", P256DH_BYTES),
                               clean_key(auth, "keys.auth", AUTH_BYTES))


def clean_endpoint(value: str) -> str:
    """Accept the https address of a push service; plain http only on this machine, outside production."""
    endpoint = (value or "").strip()
    try:
        parts = urlsplit(endpoint)
        scheme, netloc, host, _port = parts.scheme, parts.netloc, parts.hostname, parts.port  # a bad port raises
    except ValueError:
        scheme, netloc, host = "", "", None
    # Loopback is for tests and development; in production it would let anyone make us call local services.
    local = host in LOOPBACK_HOSTS
    production = current_app.config["ENV_NAME"] == "production"
    allowed = bool(host) and "@" not in netloc and len(endpoint) <= ENDPOINT_LENGTH and (
        (scheme == "https" and not (production and local)) or (scheme == "http" and local and not production)
    )
    if not allowed:
        raise InvalidInput(_l("Give the https address of your browser's push service."), "endpoint")
    return endpoint


def clean_key(value: str, field: str, length: int) -> str:
    """Check a base64url key decodes to `length` bytes; store it unpadded."""
    text = (value or "").strip().rstrip("=")
    if not BASE64URL.match(text):
        raise InvalidInput(_l("Use the base64url text your browser gave."), field)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(_l("Use the base64url text your browser gave."), field) from None
    if len(raw) != length:
        raise InvalidInput(_l("Expected %(count)d bytes once decoded.", count=length), field)
    if length == P256DH_BYTES:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise InvalidInput(_l("This is not a P-256 public key."), field) from None
    return text
