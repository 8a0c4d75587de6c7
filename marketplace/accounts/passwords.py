"""Password hashing with argon2.

Every environment hashes with argon2id at RFC 9106's low-memory parameters (64 MiB, three passes), except the
test suite's (`MARKETPLACE_ENV=test`), which takes argon2's cheapest: its thousands of log-ins each verify a
hash, and at 64 MiB apiece they were an eighth of the suite's time. A hash keeps its own parameters, so each
environment verifies any hash; one made with other parameters than the app's is hashed again at the next log-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l

from marketplace.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
_PARAMETERS = {"test": profiles.CHEAPEST}  # by MARKETPLACE_ENV; any other: argon2's default (RFC 9106 low memory)


@dataclass(frozen=True)
class Hashing:
    hasher: PasswordHasher
    dummy_hash: str  # verified against when the e-mail is unknown, so both paths take as long


def hashing_for(environment: str) -> Hashing:
    parameters = _PARAMETERS.get(environment)
    hasher = PasswordHasher.from_parameters(parameters) if parameters else PasswordHasher()
    return Hashing(hasher, hasher.hash("not-a-real-password"))


_DEFAULT = hashing_for("production")


def init_app(app: Flask) -> None:
    app.extensions["password_hashing"] = hashing_for(app.config["ENV_NAME"])


def _current() -> Hashing:
    return current_app.extensions.get("password_hashing", _DEFAULT) if has_app_context() else _DEFAULT


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(_l("Use at least %(count)d characters.", count=MIN_LENGTH), field)
    if len(password) > MAX_LENGTH:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=MAX_LENGTH), field)


def hash_password(password: str) -> str:
    return _current().hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hashing = _current()
    try:
        return hashing.hasher.verify(password_hash or hashing.dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _current().hasher.check_needs_rehash(password_hash)
