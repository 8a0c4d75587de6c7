"""A service's refusal on the page: next to the field it names, above the form, or flashed."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired

from marketplace.errors import Conflict, FieldProblems, Forbidden, InvalidInput
from marketplace.web.forms import refusals_shown


class PriceForm(FlaskForm):
    price = IntegerField()
    questions = StringField()
    name = StringField(validators=[DataRequired()])


def _form(**data) -> PriceForm:
    return PriceForm(meta={"csrf": False}, data=data)


def test_a_refusal_shows_next_to_the_field_it_names_renamed_for_the_form(app):
    with app.test_request_context():
        form = _form(name="x")
        with refusals_shown(form, fields={"price_cents": "price"}):
            raise InvalidInput("Too expensive.", "price_cents")
        assert form.price.errors == ["Too expensive."] and form.form_errors == []


def test_a_nested_field_shows_in_the_box_that_holds_it_and_an_unknown_one_above_the_form(app):
    with app.test_request_context():
        form = _form(name="x")
        with refusals_shown(form):
            raise InvalidInput("Mark one choice.", "questions.2.choices")
        with refusals_shown(form):
            raise Conflict("Someone else changed it.")
        assert form.questions.errors == ["Mark one choice."]
        assert form.form_errors == ["Someone else changed it."]


def test_the_rest_of_the_block_runs_only_when_the_service_accepts(app):
    done = []
    with app.test_request_context():
        form = _form(name="x")
        with refusals_shown(form):
            done.append("saved")
        with refusals_shown(form):
            raise InvalidInput("No.", "name")
            done.append("never")  # noqa: B018 - what a refusal skips
    assert done == ["saved"]


def test_every_field_refused_at_once_is_shown_and_the_forms_own_checks_keep_their_word(app):
    problems = FieldProblems()
    problems.add("name", "Taken.")
    problems.add("price", "Too low.")
    with app.test_request_context(method="POST", data={"price": "3"}):
        form = PriceForm(meta={"csrf": False})
        assert not form.validate()  # the name is required
        own = list(form.name.errors)
        with refusals_shown(form):
            problems.raise_any()
    assert form.name.errors == own and form.price.errors == ["Too low."]


def test_without_a_form_the_refusal_is_flashed(app):
    with app.test_request_context():
        with refusals_shown():
            raise Conflict("This rate is already cancelled.")
        assert get_flashed_messages(with_categories=True) == [("error", "This rate is already cancelled.")]


def test_other_refusals_fail_the_page_as_before(app):
    with app.test_request_context():
        form = _form(name="x")
        with pytest.raises(Forbidden), refusals_shown(form, refusals=(Conflict, InvalidInput)):
            raise Forbidden("Not yours.")
        assert form.form_errors == []
