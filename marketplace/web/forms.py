"""Form helpers shared by the pages."""

from __future__ import annotations

from flask_wtf import FlaskForm

from marketplace.errors import DomainError


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))
