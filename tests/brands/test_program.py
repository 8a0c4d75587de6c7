"""A brand's chat program as its admins save it: the widget's settings together or not at all."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.brands import program, services
from marketplace.brands.models import Brand, BrandRole
from marketplace.errors import InvalidInput
from tests.factories import BrandFactory, MembershipFactory


def admin_of(session, brand: Brand) -> User:
    user = session.get(User, MembershipFactory(brand=brand, role=BrandRole.ADMIN).user_id)
    session.commit()
    return user


def test_the_widgets_origins_and_canned_answers_are_saved_together(app, session):
    brand = BrandFactory(widget_origins=[])
    admin = admin_of(session, brand)
    with app.test_request_context():
        program.update_widget(admin, brand.id, widget_origins=["https://shop.example"],
                              canned_answers=[{"title": "Hello", "body": "How can I help?"}])
    session.expire_all()
    assert session.get(Brand, brand.id).widget_origins == ["https://shop.example"]
    assert [a.title for a in services.canned_answers({brand.id})[brand.id]] == ["Hello"]


def test_a_refused_canned_answer_leaves_the_origins_as_they_were(app, session):
    brand = BrandFactory(widget_origins=["https://old.example"])
    admin = admin_of(session, brand)
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        program.update_widget(admin, brand.id, widget_origins=["https://shop.example"],
                              canned_answers=[{"title": "", "body": "No title"}])
    assert refused.value.field == "canned_answers"
    session.expire_all()
    assert session.get(Brand, brand.id).widget_origins == ["https://old.example"]
    assert services.canned_answers({brand.id})[brand.id] == []
