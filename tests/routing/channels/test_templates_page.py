"""The brand's page of a WhatsApp number's templates: its admins record and delete them, refusals show on the page."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.brands.models import BrandRole
from marketplace.routing.models import ChannelTemplate, TemplateStatus
from tests.conftest import csrf_token_from, log_in
from tests.factories import BrandFactory
from tests.routing.channels.conftest import connect
from tests.routing.conftest import admin_of

FORM = {"name": "order_ready", "language": "en_US", "category": "utility", "status": "approved",
        "body": "Hello {{1}}, your order is ready."}


def _url(brand, channel_id):
    return f"/brands/{brand.slug}/channels/{channel_id}/templates"


def test_an_admin_records_a_template_sees_a_refusal_beside_its_field_and_deletes_it(client, session, brand, number):
    channel = connect(session, brand, number)
    log_in(client, admin_of(session, brand).email)
    page = client.get(_url(brand, channel.id))
    assert page.status_code == 200 and 'data-testid="no-templates"' in page.get_data(as_text=True)
    csrf = csrf_token_from(page.get_data(as_text=True))

    refused = client.post(_url(brand, channel.id), data={**FORM, "body": "Hi {{2}}", "csrf_token": csrf})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="body-error"' in html and "without a gap" in html and "Hi {{2}}" in html  # kept as filled in
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 0

    created = client.post(_url(brand, channel.id), data={**FORM, "csrf_token": csrf}, follow_redirects=True)
    html = created.get_data(as_text=True)
    assert "order_ready" in html and "1 parameter" in html
    template = session.scalar(sa.select(ChannelTemplate))
    assert (template.name, template.parameters, template.status) == ("order_ready", 1, TemplateStatus.APPROVED)

    deleted = client.post(f"{_url(brand, channel.id)}/{template.id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 0


def test_a_viewer_reads_without_a_form_and_may_not_write(client, session, brand, number):
    channel = connect(session, brand, number)
    session.add(ChannelTemplate(channel_id=channel.id, parameters=1, **FORM))
    session.commit()
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    page = client.get(_url(brand, channel.id))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "order_ready" in html
    assert 'data-testid="template-form"' not in html and 'data-testid="delete-template"' not in html
    answer = client.post(_url(brand, channel.id), data={**FORM, "name": "other",
                                                            "csrf_token": csrf_token_from(html)})
    assert answer.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 1


def test_another_brands_page_is_not_found(client, session, brand, number):
    channel = connect(session, brand, number)
    other = BrandFactory()
    session.commit()
    log_in(client, admin_of(session, other).email)
    assert client.get(_url(brand, channel.id)).status_code == 404
    assert client.get(_url(other, channel.id)).status_code == 404
