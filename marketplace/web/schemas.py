"""The base of every API schema: what any field may hold before a domain's own rules look at it.

A number the database cannot store, a date at the calendar's edge where adding a week overflows, or a
list of a million ids is refused here, named by its field, so no service has to guard against it.
Domain schemas add their business bounds (`validate.Range(1, 100)`) on top; these are the outer walls.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from marketplace.database import ID_MAX, INT64_MAX, INT64_MIN

# Days and instants the app works with; far enough either side for any plan, history or filter, near
# enough that adding weeks or a timezone offset never leaves the calendar (year 1 and 9999 do).
FIRST_YEAR = 1900
LAST_YEAR = 2199
LIST_MAX = 1000
TOO_LARGE = _l("Use a whole number of at most 19 digits.")
PAGE_MAX = 10_000
NOT_AN_ID = _l("Not a known number: use a whole number from 1.")
NOT_A_PAGE = _l("Use a page number from 1 to 10,000.")


class YearWithin(validate.Validator):
    """A date or datetime between FIRST_YEAR and LAST_YEAR (aware and naive values alike)."""

    def __call__(self, value: dt.date) -> dt.date:
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError(str(_l("Use a date between the years %(first)d and %(last)d.",
                                          first=FIRST_YEAR, last=LAST_YEAR)))
        return value


def bounded(field: fields.Field) -> fields.Field:
    """Give a field the outer bound of its kind, unless it has a tighter one of its own; return it."""
    own = [v for v in field.validators if isinstance(v, validate.Range | validate.Length)]
    if isinstance(field, fields.Integer) and not own:
        field.validators.append(validate.Range(INT64_MIN, INT64_MAX))
    elif isinstance(field, fields.Date | fields.DateTime | fields.NaiveDateTime | fields.AwareDateTime):
        field.validators.append(YearWithin())
    elif isinstance(field, fields.List) and not own:
        field.validators.append(validate.Length(max=LIST_MAX))
    inner = getattr(field, "inner", None)
    if isinstance(inner, fields.Field):
        bounded(inner)
    return field


class Schema(marshmallow.Schema):
    """Every API schema's base: bounds integers to 64 bits, dates to usable years, lists to LIST_MAX."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        bounded(field_obj)
        super().on_bind_field(field_name, field_obj)


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802 - reads as a field type
    """A record id: a positive 64-bit integer. `strict` (JSON bodies) refuses 1.0 and "1"; the query
    string's ids are text, read with strict=False."""
    return fields.Integer(strict=strict, validate=validate.Range(1, ID_MAX, error=NOT_AN_ID), **kwargs)


def Page(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A page number from the query string: 1 to PAGE_MAX."""
    kwargs.setdefault("load_default", 1)
    return fields.Integer(validate=validate.Range(1, PAGE_MAX, error=NOT_A_PAGE), **kwargs)
