"""Domain errors that services raise and the web layer maps to 4xx answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


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


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


def clean_text(value: str | None, field: str, *, max_length: int, required: object | None = None) -> str:
    """Strip a text input and check its length; `required` is the message when it may not be empty."""
    text = (value or "").strip()
    if required is not None and not text:
        raise InvalidInput(required, field)
    if len(text) > max_length:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=max_length), field)
    return text
