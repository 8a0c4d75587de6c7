"""The brand console's FAQ bot tab: settings, the base (search, add, edit, delete after a confirmation, CSV), a
question tried, and proposals; refusals shown on the page, never a 500; viewers read only; other brands 404."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from marketplace.brands.models import BrandRole
from marketplace.faq import entries
from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings
from tests.conftest import csrf_token_from, log_in
from tests.factories import ApprovedExpertFactory
from tests.faq.conftest import DELIVERY, member_of, refs

ENTRY_FORM = {"ref": "delivery", "lang": "fr", "question": DELIVERY["question"], "answer": DELIVERY["answer"],
              "tags": "livraison; délais", "active": "y"}


def _url(brand, rest: str = "") -> str:
    return f"/brands/{brand.slug}/faq{rest}"


def _value(html: str, name: str) -> str:
    """The value of the page's input named `name`."""
    field = re.search(rf'<input[^>]* name="{name}"[^>]*>', html)
    assert field, name
    return re.search(r'value="([^"]*)"', field.group(0)).group(1)


def _open_as(client, session, brand, role: BrandRole = BrandRole.ADMIN) -> str:
    log_in(client, member_of(session, brand, role).email)
    page = client.get(_url(brand))
    assert page.status_code == 200
    return csrf_token_from(page.get_data(as_text=True))


def _add(session, brand, **values) -> FaqEntry:
    return entries.create_entry(member_of(session, brand), brand.id, {**DELIVERY, **values})


def test_the_tab_shows_the_settings_the_base_and_the_proposals(client, session, brand):
    _add(session, brand)
    entries.propose_entry(brand.id, ApprovedExpertFactory(display_name="Emma").id, None, "Livrez-vous en Suisse ?",
                          "Pas encore.", "fr")
    _open_as(client, session, brand)
    html = client.get(_url(brand)).get_data(as_text=True)
    assert f'href="{_url(brand)}" aria-current="page">FAQ bot</a>' in html  # its tab in the console's bar
    assert 'data-testid="faq-settings-form"' in html and _value(html, "threshold") == "65"
    assert 'data-ref="delivery"' in html and 'data-testid="faq-total">1 entry' in html
    assert "Proposed by Emma" in html and "Livrez-vous en Suisse ?" in html


def test_an_admin_saves_the_settings_with_the_credit_in_the_brands_currency(client, session, brand):
    csrf = _open_as(client, session, brand)
    saved = client.post(_url(brand, "/settings"), data={
        "bot_enabled": "y", "threshold": "80", "resolve_after_minutes": "15", "credit": "1,50",
        "synonyms": "livraison, expédition", "csrf_token": csrf})
    assert saved.status_code == 302
    settings = session.get(FaqSettings, brand.id)
    assert (settings.bot_enabled, settings.threshold, settings.resolve_after_minutes, settings.credit_cents,
            settings.synonyms) == (True, 0.8, 15, 150, "livraison, expédition")
    html = client.get(_url(brand)).get_data(as_text=True)
    assert _value(html, "credit") == "1.50" and "credit per resolution (EUR)" in html


def test_bad_settings_are_shown_beside_their_fields(client, session, brand):
    csrf = _open_as(client, session, brand)
    refused = client.post(_url(brand, "/settings"), data={
        "threshold": "150", "resolve_after_minutes": "0", "credit": "250", "synonyms": "a, " + "b" * 300,
        "csrf_token": csrf})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for field in ("threshold", "resolve_after_minutes", "credit"):
        assert f'id="{field}-error"' in html, field
    assert session.get(FaqSettings, brand.id) is None
    synonyms = client.post(_url(brand, "/settings"), data={
        "threshold": "60", "resolve_after_minutes": "10", "credit": "0", "synonyms": "a, " + "b" * 300,
        "csrf_token": csrf})
    assert synonyms.status_code == 422 and 'id="synonyms-error"' in synonyms.get_data(as_text=True)


def test_an_admin_adds_an_entry_and_sees_refusals_beside_the_fields(client, session, brand):
    csrf = _open_as(client, session, brand)
    refused = client.post(_url(brand, "/entries"), data={**ENTRY_FORM, "ref": "mauvaise ref", "answer": "",
                                                         "csrf_token": csrf})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="ref-error"' in html and 'id="answer-error"' in html and DELIVERY["question"] in html
    assert refs(session, brand.id) == []

    added = client.post(_url(brand, "/entries"), data={**ENTRY_FORM, "csrf_token": csrf}, follow_redirects=True)
    assert "The entry delivery is added." in added.get_data(as_text=True)
    entry = session.scalar(sa.select(FaqEntry).where(FaqEntry.brand_id == brand.id))
    assert (entry.tags, entry.active) == (["livraison", "délais"], True)

    taken = client.post(_url(brand, "/entries"), data={**ENTRY_FORM, "csrf_token": csrf})
    assert taken.status_code == 422 and "Another entry of the brand has this ref." in taken.get_data(as_text=True)


def test_an_admin_edits_and_deletes_an_entry_after_a_confirmation(client, session, brand):
    entry = _add(session, brand)
    csrf = _open_as(client, session, brand)
    page = client.get(_url(brand, f"/entries/{entry.id}"))
    assert page.status_code == 200 and 'value="livraison"' in page.get_data(as_text=True)
    saved = client.post(_url(brand, f"/entries/{entry.id}"), data={**ENTRY_FORM, "answer": "En 48 h.",
                                                                   "csrf_token": csrf})
    assert saved.status_code == 302
    assert session.scalar(sa.select(FaqEntry.answer).where(FaqEntry.id == entry.id)) == "En 48 h."
    refused = client.post(_url(brand, f"/entries/{entry.id}"), data={**ENTRY_FORM, "lang": "de", "csrf_token": csrf})
    assert refused.status_code == 422

    confirm = client.get(_url(brand, f"/entries/{entry.id}/delete"))
    assert 'data-testid="faq-delete-confirm"' in confirm.get_data(as_text=True)
    assert refs(session, brand.id) == ["delivery"]  # asking deletes nothing
    deleted = client.post(_url(brand, f"/entries/{entry.id}/delete"), data={"csrf_token": csrf})
    assert deleted.status_code == 302
    assert refs(session, brand.id) == []


def test_the_search_narrows_the_list(client, session, brand):
    _add(session, brand)
    _add(session, brand, ref="returns", question="Comment renvoyer un article ?")
    _open_as(client, session, brand)
    html = client.get(_url(brand, "?q=renvoyer")).get_data(as_text=True)
    assert 'data-ref="returns"' in html and 'data-ref="delivery"' not in html
    assert client.get(_url(brand, "?q=" + "x" * 201)).status_code == 200  # refused, shown, not a 500


def test_trying_a_question_shows_the_answer_and_the_confidence(client, session, brand):
    _add(session, brand)
    _open_as(client, session, brand, BrandRole.VIEWER)
    html = client.get(_url(brand), query_string={"ask": DELIVERY["question"]}).get_data(as_text=True)
    assert 'data-reason="answered"' in html and DELIVERY["answer"] in html
    assert re.search(r"Confidence (6[5-9]|[7-9]\d|100)%", html)  # at or above the brand's threshold
    other = client.get(_url(brand), query_string={"ask": "je veux parler à un conseiller"}).get_data(as_text=True)
    assert 'data-reason="asked_for_person"' in other


def test_the_base_is_exported_and_imported_through_the_page(client, session, brand):
    _add(session, brand, question="Où en est ma livraison ?")
    csrf = _open_as(client, session, brand)
    exported = client.get(_url(brand, "/entries.csv"))
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    content = exported.get_data().replace("Où en est".encode(), "Où est".encode())
    imported = client.post(_url(brand, "/import"), data={"file": (io.BytesIO(content), "faq.csv"),
                                                         "csrf_token": csrf}, follow_redirects=True)
    assert "Imported: 0 added, 1 changed, 0 unchanged." in imported.get_data(as_text=True)
    assert session.scalar(sa.select(FaqEntry.question).where(FaqEntry.brand_id == brand.id)) == \
        "Où est ma livraison ?"

    bad = b"ref;lang;question;answer;tags\r\nx;de;Q ?;R.;\r\n"
    refused = client.post(_url(brand, "/import"), data={"file": (io.BytesIO(bad), "faq.csv"), "csrf_token": csrf})
    assert refused.status_code == 422 and "Line 2: Choose fr or en." in refused.get_data(as_text=True)
    empty = client.post(_url(brand, "/import"), data={"csrf_token": csrf})
    assert empty.status_code == 422 and "Choose a CSV file." in empty.get_data(as_text=True)


def test_an_admin_approves_an_edited_proposal_and_rejects_another(client, session, brand):
    expert = ApprovedExpertFactory()
    approved = entries.propose_entry(brand.id, expert.id, None, "Livrez-vous en Belgique ?", "Oui.", "fr")
    rejected = entries.propose_entry(brand.id, expert.id, None, "Et sur Mars ?", "Non.", "fr")
    csrf = _open_as(client, session, brand)
    prefix = f"proposal-{approved.id}-"
    refused = client.post(_url(brand, f"/proposals/{approved.id}/approve"), data={
        f"{prefix}ref": "belgique", f"{prefix}lang": "fr", f"{prefix}question": "Livrez-vous en Belgique ?",
        f"{prefix}answer": " ", "csrf_token": csrf})
    assert refused.status_code == 422 and f'id="{prefix}answer-error"' in refused.get_data(as_text=True)
    done = client.post(_url(brand, f"/proposals/{approved.id}/approve"), data={
        f"{prefix}ref": "belgique", f"{prefix}lang": "fr", f"{prefix}question": "Livrez-vous en Belgique ?",
        f"{prefix}answer": "Oui, en 4 jours.", "csrf_token": csrf})
    assert done.status_code == 302
    assert client.post(_url(brand, f"/proposals/{rejected.id}/reject"), data={"csrf_token": csrf}).status_code == 302
    statuses = dict(session.execute(sa.select(FaqEntry.ref, FaqEntry.status)
                                    .where(FaqEntry.brand_id == brand.id)).all())
    assert statuses == {"belgique": EntryStatus.ACTIVE, rejected.ref: EntryStatus.REJECTED}
    again = client.post(_url(brand, f"/proposals/{rejected.id}/reject"), data={"csrf_token": csrf},
                        follow_redirects=True)
    assert "This proposal is decided already." in again.get_data(as_text=True)


def test_a_viewer_reads_without_forms_and_may_not_write(client, session, brand):
    entry = _add(session, brand)
    csrf = _open_as(client, session, brand, BrandRole.VIEWER)
    html = client.get(_url(brand)).get_data(as_text=True)
    assert 'data-ref="delivery"' in html and 'data-testid="faq-bot-state"' in html
    for form in ("faq-settings-form", "faq-entry-form", "faq-import-form", "faq-delete"):
        assert f'data-testid="{form}"' not in html, form
    assert client.get(_url(brand, f"/entries/{entry.id}/delete")).status_code == 403
    for path in ("/settings", "/entries", f"/entries/{entry.id}", f"/entries/{entry.id}/delete", "/import"):
        assert client.post(_url(brand, path), data={**ENTRY_FORM, "csrf_token": csrf}).status_code == 403, path
    assert refs(session, brand.id) == ["delivery"]


def test_another_brands_member_gets_404(client, session, brand, other_brand):
    entry = _add(session, brand)
    log_in(client, member_of(session, other_brand).email)
    for path in ("", f"/entries/{entry.id}", f"/entries/{entry.id}/delete", "/entries.csv"):
        assert client.get(_url(brand, path)).status_code == 404, path
    assert client.get(f"/brands/{other_brand.slug}/faq/entries/{entry.id}").status_code == 404


def test_the_page_speaks_french(client, session, brand):
    _open_as(client, session, brand)
    html = client.get(_url(brand), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Bot FAQ" in html and "Essayer une question" in html
