"""`X-Hub-Signature-256`: how Meta signs each webhook delivery (WhatsApp and Messenger alike).

The header is `sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>`. It is checked over the exact
bytes received, before anything in the body is trusted, and compared in constant time so that the answer's timing
tells a forger nothing about how much of a guess was right. A missing secret verifies nothing.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta sends for `raw_body`: `sha256=<hex digest>`."""
    if not app_secret:
        raise ValueError("an app secret is required to sign")
    return _PREFIX + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str | None, raw_body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `raw_body` with `app_secret`; False when either is missing."""
    if not app_secret or not header or not isinstance(raw_body, bytes | bytearray):
        return False
    given = header.strip()
    if given[:len(_PREFIX)].lower() != _PREFIX:
        return False
    expected = sign(app_secret, bytes(raw_body))
    # Both sides as bytes: compare_digest refuses non-ASCII text, and a forged header may hold anything.
    return hmac.compare_digest(expected.encode(), (_PREFIX + given[len(_PREFIX):].lower()).encode("utf-8", "replace"))
