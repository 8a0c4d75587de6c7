"""Seal sensitive values at rest (payout details) with a key derived from SECRET_KEY.

A copied database alone does not reveal an IBAN. Changing SECRET_KEY makes sealed values unreadable,
so production keeps its key (config.py already requires a stable one there).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet(purpose: str) -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"marketplace:{purpose}".encode()).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, purpose: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode("ascii")


def unseal(token: str, purpose: str) -> str:
    """Open a sealed value; raise ValueError when it was sealed under another key or altered."""
    try:
        return _fernet(purpose).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("sealed value cannot be opened with this SECRET_KEY") from None
