"""Network fingerprints: keyed hashes of network addresses, so two can be compared without keeping either."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app


def fingerprint(address: str | None) -> str | None:
    """A keyed fingerprint of a network address (an IPv6 one by its /64, a household's usual share), so two
    can be compared without keeping either; None when there is no usable address (none, or this machine's own:
    every local test and demo chat would look alike)."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if parsed.is_loopback or parsed.is_unspecified:
        return None
    network = ipaddress.ip_network(f"{parsed}/64", strict=False) if parsed.version == 6 else parsed
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"network:{network}".encode(), hashlib.sha256).hexdigest()[:32]
