"""Form helpers shared by the pages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from marketplace.errors import DomainError
from marketplace.shared import money


class MoneyField(StringField):
    """An amount in currency units; `cents` holds it in minor units once the form is validated.

    Set `currency` before validating. Empty is 0, or None when `optional` (no amount: e.g. no cap).
    """

    def __init__(self, *args, max_cents: int, too_large=None, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = "EUR"
        self.cents: int | None = None
        self.max_cents, self.optional = max_cents, optional
        self.too_large = too_large or _l("This amount is too large.")

    def pre_validate(self, form) -> None:
        if self.optional and not (self.data or "").strip():
            self.cents = None
            return
        try:
            self.cents = money.parse(self.data, self.currency)
        except ValueError as error:
            self.cents = None
            raise ValidationError(str(error.args[0])) from None
        if self.cents > self.max_cents:
            self.cents = None
            raise ValidationError(str(self.too_large))


def lines(text: str | None) -> list[str]:
    """The non-empty lines of a text box, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def show_error(form: FlaskForm, error: DomainError, *, fields: Mapping[str, str] | None = None) -> None:
    """Put a service's refusal next to each field it names, or above the form.

    `fields` renames the service's field names to the form's ("price_cents" to "price"); a nested name
    ("questions.2.text") falls back to the form field that holds it ("questions"). A field the form's own
    checks already refused keeps their messages only: they say what is wrong there.
    """
    refused = {field.name for field in form if field.errors}
    for name, messages in (error.errors or {"": [error.message]}).items():
        name = (fields or {}).get(name, name)
        if name not in form:
            name = name.partition(".")[0]
        if name and name in form:
            if name not in refused:
                form[name].errors = [*form[name].errors, *(str(message) for message in messages)]
        else:
            form.form_errors.extend(str(message) for message in messages)


@contextlib.contextmanager
def refusals_shown(form: FlaskForm | None = None, *, fields: Mapping[str, str] | None = None,
                   refusals: type[DomainError] | tuple[type[DomainError], ...] = DomainError) -> Iterator[None]:
    """Run a form's action, showing a service's refusal instead of failing the page.

    A `refusals` error raised in the block is shown on `form` (see `show_error`), or flashed when there is no
    form, and the rest of the block is skipped: write what follows success inside the block, what follows a
    refusal after it. Services roll their own work back, so there is nothing to undo here.

        with refusals_shown(form):
            services.schedule_rate(...)
            flash(gettext("The new rate is scheduled."), "success")
            return redirect(...)
        return render_template(...), 422
    """
    try:
        yield
    except refusals as error:
        if form is None:
            flash(str(error.message), "error")
        else:
            show_error(form, error, fields=fields)
