"""The retention period as brand admins set it (program page, API) and the pages that show what it removed: the
contact's erasure with its confirmation, an anonymised transcript, the export; and the command line's pass."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.brands.models import Brand, BrandRole
from marketplace.cli import cli
from marketplace.database import db, utcnow
from marketplace.routing.models import Contact, Conversation
from tests.conftest import log_in
from tests.routing.conftest import admin_of
from tests.routing.retention.conftest import contact_of, personal_chat
from tests.routing.test_pages import form_token

BAD_PERIODS = [0, 121, -1, "12", 12.5, True, None, 10**30]


@pytest.mark.parametrize("path", ["", "/program"])
def test_an_admin_sets_the_period_through_the_api(client, session, brand, path):
    csrf = log_in(client, admin_of(session, brand).email)
    assert client.get(f"/api/v1/brands/{brand.id}{path}").json["retention_months"] == 12
    response = client.patch(f"/api/v1/brands/{brand.id}{path}", headers={"X-CSRFToken": csrf},
                            json={"retention_months": 36})
    assert response.status_code == 200, response.json
    assert response.json["retention_months"] == 36
    session.expire_all()
    assert session.get(Brand, brand.id).retention_months == 36


@pytest.mark.parametrize("path", ["", "/program"])
@pytest.mark.parametrize("value", BAD_PERIODS)
def test_a_bad_period_is_refused_naming_the_field(client, session, brand, path, value):
    csrf = log_in(client, admin_of(session, brand).email)
    response = client.patch(f"/api/v1/brands/{brand.id}{path}", headers={"X-CSRFToken": csrf},
                            json={"retention_months": value})
    assert response.status_code == 422, response.json
    assert "retention_months" in response.json["errors"]
    session.expire_all()
    assert session.get(Brand, brand.id).retention_months == 12


def test_a_viewer_cannot_change_the_period(client, session, brand):
    csrf = log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    response = client.patch(f"/api/v1/brands/{brand.id}", headers={"X-CSRFToken": csrf}, json={"retention_months": 1})
    assert response.status_code == 403


def test_the_program_page_shows_and_saves_the_period_and_names_a_bad_one(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/program").get_data(as_text=True)
    assert 'name="retention_months"' in page and 'value="12"' in page
    from tests.routing.console.test_console_pages import PROGRAM

    saved = client.post(f"/brands/{brand.slug}/program",
                        data={"csrf_token": form_token(page), **PROGRAM, "retention_months": "6"})
    assert saved.status_code == 302
    session.expire_all()
    assert session.get(Brand, brand.id).retention_months == 6
    for bad in ("0", "121", "douze", ""):
        refused = client.post(f"/brands/{brand.slug}/program",
                              data={"csrf_token": form_token(page), **PROGRAM, "retention_months": bad})
        assert refused.status_code == 422
        assert 'id="retention_months-error"' in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Brand, brand.id).retention_months == 6


def test_an_admin_erases_a_contact_from_its_page_after_confirming(client, session, brand, files):
    contact = contact_of(brand)
    chat = personal_chat(brand, files, utcnow() - dt.timedelta(days=2), contact=contact)
    session.commit()
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/contacts/{contact.id}").get_data(as_text=True)
    assert 'data-testid="erase-form"' in page
    action = f"/brands/{brand.slug}/contacts/{contact.id}/erase"

    unconfirmed = client.post(action, data={"csrf_token": form_token(page)})
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm the erasure." in unconfirmed.get_data(as_text=True)
    session.expire_all()
    assert session.get(Contact, contact.id) is not None and chat.file.exists()

    erased = client.post(action, data={"csrf_token": form_token(page), "confirm": "y"}, follow_redirects=True)
    assert erased.status_code == 200
    assert "The contact is erased" in erased.get_data(as_text=True)
    session.expire_all()
    assert session.get(Contact, contact.id) is None and not chat.file.exists()

    transcript = client.get(f"/brands/{brand.slug}/conversations/{chat.id}").get_data(as_text=True)
    assert "removed under the retention policy" in transcript
    assert "Ana Lopez" not in transcript and "ana@example.com" not in transcript
    api = client.get(f"/api/v1/brands/{brand.id}/conversations/{chat.id}").json
    assert api["messages"] == [] and api["conversation"]["anonymised_at"] is not None
    export = client.get(f"/brands/{brand.slug}/conversations.csv").get_data(as_text=True)
    assert str(chat.id) in export and "Ana Lopez" not in export


def test_a_viewer_sees_no_erase_form_and_is_refused(client, session, brand, files):
    contact = contact_of(brand)
    session.commit()
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    page = client.get(f"/brands/{brand.slug}/contacts/{contact.id}").get_data(as_text=True)
    assert 'data-testid="erase-form"' not in page
    refused = client.post(f"/brands/{brand.slug}/contacts/{contact.id}/erase",
                          data={"csrf_token": form_token(page), "confirm": "y"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(Contact, contact.id) is not None


def test_another_brands_admin_gets_404_on_the_erase_page(client, session, brand, files):
    from tests.factories import BrandFactory

    contact = contact_of(brand)
    other = BrandFactory()
    session.commit()
    log_in(client, admin_of(session, other).email)
    page = client.get(f"/brands/{other.slug}/program").get_data(as_text=True)
    for slug in (brand.slug, other.slug):
        response = client.post(f"/brands/{slug}/contacts/{contact.id}/erase",
                               data={"csrf_token": form_token(page), "confirm": "y"})
        assert response.status_code == 404
    session.expire_all()
    assert session.get(Contact, contact.id) is not None


def test_the_command_line_runs_the_retention_pass(app, session, files):
    from tests.factories import BrandFactory

    brand = BrandFactory(retention_months=1)
    chat = personal_chat(brand, files, utcnow() - dt.timedelta(days=45))
    session.commit()
    result = app.test_cli_runner().invoke(cli, ["retention"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Anonymised 1 conversations, deleted 1 files" in result.output
    assert db.session.scalar(sa.select(Conversation.anonymised_at).where(Conversation.id == chat.id)) is not None
