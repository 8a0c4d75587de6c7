"""Domain errors that services raise and the web layer maps to 4xx answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l

T = TypeVar("T")


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]} if self.field else {}


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class InvalidFields(InvalidInput):
    """Several fields refused at once; `errors` holds every field's messages."""

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        single = len(errors) == 1 and len(messages) == 1
        super().__init__(messages[0] if single else _l("Some fields are not valid."), field)
        self.field_errors = errors

    @property
    def errors(self) -> dict[str, list[str]]:
        return self.field_errors


class FieldProblems:
    """Collects each field's refusal, so that one answer names them all (InvalidFields)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def check(self, clean: Callable[[], T]) -> T | None:
        """`clean()`, or None with its refusal noted."""
        try:
            return clean()
        except InvalidInput as error:
            for field, messages in (error.errors or {error.field or "": [error.message]}).items():
                for message in messages:
                    self.add(field, message)
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class TooLarge(DomainError):
    status = 413
    title = "Payload too large"


class UnsupportedType(DomainError):
    status = 415
    title = "Unsupported media type"


class Unavailable(DomainError):
    """A service the request needs did not answer; trying again later may work."""

    status = 503
    title = "Service unavailable"


def clean_text(value: str | None, field: str, *, max_length: int, required: object | None = None) -> str:
    """Strip a text input and check its length; `required` is the message when it may not be empty."""
    text = (value or "").strip()
    if required is not None and not text:
        raise InvalidInput(required, field)
    if len(text) > max_length:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=max_length), field)
    return text
