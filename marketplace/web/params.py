"""The query string's ids, pages, cursors and dates, read and bounded in one place for pages and the API.

A value that does not parse or lies outside what the app can use is refused with InvalidInput naming the
parameter: problem+json 422 for the API, a friendly page for people. A form's date and number fields get
the same bounds (`DateField`, `IntegerField` here), so no service sees year 1 or a number beyond 64 bits.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

from flask import request
from marshmallow import ValidationError, fields
from wtforms import DateField as WTFormsDateField
from wtforms import IntegerField as WTFormsIntegerField
from wtforms.validators import ValidationError as FormValidationError

from marketplace.database import INT64_MAX, INT64_MIN
from marketplace.errors import InvalidInput
from marketplace.web.schemas import TOO_LARGE, Id, Page, YearWithin, bounded

T = TypeVar("T")
WHOLE_NUMBER = re.compile(r"-?[0-9]+")



def query_value(name: str, field: fields.Field, default: T | None = None) -> Any | T | None:
    """The query parameter `name` read by a schema field (with its bounds), or `default` when absent."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    if isinstance(field, fields.Integer) and not WHOLE_NUMBER.fullmatch(raw.strip()):
        raise InvalidInput(str(field.error_messages["invalid"]), name)  # "٣" and "²" are digits to int()
    try:
        return bounded(field).deserialize(raw.strip())
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, list) else [str(error.messages)]
        raise InvalidInput(str(messages[0]), name) from None


def page_number(name: str = "page") -> int:
    return query_value(name, Page(), 1)


def record_id(name: str) -> int | None:
    return query_value(name, Id(strict=False))


def day(name: str, default: dt.date | None = None) -> dt.date | None:
    return query_value(name, fields.Date(), default)


def instant(name: str) -> dt.datetime | None:
    """An ISO 8601 date and time; one without an offset is taken as UTC."""
    value = query_value(name, fields.DateTime())
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


class DateField(WTFormsDateField):
    """A form's date, refused outside the years the app can compute with."""

    def pre_validate(self, form) -> None:
        if self.data is not None:
            try:
                YearWithin()(self.data)
            except ValidationError as error:
                raise FormValidationError(str(error.messages[0])) from None


class IntegerField(WTFormsIntegerField):
    """A form's whole number, refused beyond 64 bits before its own range is checked."""

    def pre_validate(self, form) -> None:
        if self.data is not None and not INT64_MIN <= self.data <= INT64_MAX:
            raise FormValidationError(str(TOO_LARGE))

