"""The base as a CSV file: exported for a spreadsheet, imported back (by ref, all or nothing, lines named)."""

from __future__ import annotations

import io

import sqlalchemy as sa

from marketplace.faq.models import FaqEntry
from marketplace.shared import spreadsheets
from tests.faq.conftest import DELIVERY, faq, refs, version

ACCENTED = {"ref": "ou-est", "lang": "fr", "question": "Où en est ma livraison ?\nQuand arrive mon colis ?",
            "answer": "Délai : 3 à 5 jours ouvrés ; suivi par e-mail.", "tags": ["livraison", "délais"]}
FORMULA = {"ref": "promo", "lang": "fr", "question": "=Code promo ?", "answer": "-10 % avec BIENVENUE",
           "tags": []}


def _rows(session, brand_id: int) -> list[tuple]:
    return [(e.ref, e.lang, e.question, e.answer, e.tags) for e in session.scalars(
        sa.select(FaqEntry).where(FaqEntry.brand_id == brand_id).order_by(FaqEntry.ref)
        .execution_options(populate_existing=True))]


def test_the_export_is_a_spreadsheets_csv_of_the_base(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json={**ACCENTED, "ref": "delivery"})
    response = admin.get(faq(brand.id, "/entries.csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="faq-{brand.slug}-')
    text = response.get_data(as_text=True)
    assert text.startswith(spreadsheets.BOM + "ref;lang;question;answer;tags\r\n")
    assert spreadsheets.read(text)[1] == ["delivery", "fr", ACCENTED["question"], ACCENTED["answer"],
                                          "livraison;délais"]


def test_a_round_trip_keeps_accents_line_breaks_and_formula_like_text(session, brand, admin):
    for values in (ACCENTED, FORMULA):
        assert admin.post(faq(brand.id, "/entries"), json=values).status_code == 201, values
    exported = admin.get(faq(brand.id, "/entries.csv")).get_data()
    assert b"'=Code promo ?" in exported  # defused for the spreadsheet...

    admin.put(faq(brand.id, "/entries"), json=[])
    imported = admin.post(faq(brand.id, "/entries.csv"), data={"file": (io.BytesIO(exported), "faq.csv")},
                          content_type="multipart/form-data")
    assert imported.status_code == 200, imported.get_json()
    assert imported.get_json() == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    assert _rows(session, brand.id) == [  # ...and read back as written
        (v["ref"], v["lang"], v["question"], v["answer"], v["tags"]) for v in (ACCENTED, FORMULA)]


def test_an_import_takes_utf8_with_or_without_bom_and_commas(session, brand, admin):
    lines = ("ref,lang,question,answer,tags\r\n"
             "retours,fr,Comment renvoyer un article ?,Sous 30 jours.,retour;échange\r\n")
    for content in (lines.encode(), spreadsheets.BOM.encode() + lines.encode()):
        response = admin.post(faq(brand.id, "/entries.csv"), data=content, content_type="text/csv")
        assert response.status_code == 200, response.get_json()
    assert _rows(session, brand.id) == [("retours", "fr", "Comment renvoyer un article ?", "Sous 30 jours.",
                                         ["retour", "échange"])]


def test_an_import_upserts_by_ref_and_deletes_nothing(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    admin.post(faq(brand.id, "/entries"), json={**DELIVERY, "ref": "kept"})
    before = version(session, brand.id)
    content = spreadsheets.text(("ref", "lang", "question", "answer", "tags"), [
        ("delivery", "fr", DELIVERY["question"], "En 48 h.", "livraison"), ("new", "en", "New?", "Yes.", "")])
    response = admin.post(faq(brand.id, "/entries.csv"), data=content.encode(), content_type="text/csv")
    assert response.get_json() == {"created": 1, "updated": 1, "unchanged": 0, "deleted": 0}
    assert refs(session, brand.id) == ["delivery", "kept", "new"]
    assert version(session, brand.id) == before + 1


def test_bad_rows_are_named_by_line_and_nothing_is_written(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    content = ("ref;lang;question;answer;tags\r\n"
               "delivery;fr;Délais ?;Changed.;\r\n"
               "multi;fr;\"Deux\r\nlignes\";Oui.;\r\n"
               "bad;de;Question ?;Réponse.;\r\n"
               "delivery;en;Again?;Twice.;\r\n")
    response = admin.post(faq(brand.id, "/entries.csv"), data=content.encode(), content_type="text/csv")
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert set(errors) == {"5.lang", "6.ref"}  # the quoted cell spans lines 3 and 4
    assert errors["5.lang"][0].startswith("Line 5: ")
    assert _rows(session, brand.id)[0][3] == DELIVERY["answer"]
    assert refs(session, brand.id) == ["delivery"]


def test_a_file_that_is_not_utf8_or_lacks_columns_is_refused_naming_the_file(session, brand, admin):
    latin = "ref;lang;question;answer;tags\r\nx;fr;Délai ?;Trois jours.;\r\n".encode("latin-1")
    for content in (latin, b"name;text\r\nx;y\r\n"):
        response = admin.post(faq(brand.id, "/entries.csv"), data={"file": (io.BytesIO(content), "faq.csv")},
                              content_type="multipart/form-data")
        assert response.status_code == 422, response.get_json()
        assert list(response.get_json()["errors"]) == ["file"]
    assert refs(session, brand.id) == []


def test_an_import_needs_a_file_or_a_csv_body(brand, admin):
    assert admin.post(faq(brand.id, "/entries.csv"), data={}, content_type="multipart/form-data").status_code == 422
    response = admin.post(faq(brand.id, "/entries.csv"), json={"file": "x"})
    assert response.status_code == 415
    assert list(response.get_json()["errors"]) == ["file"]


def test_a_viewer_exports_but_cannot_import(session, brand, admin, viewer):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    assert viewer.get(faq(brand.id, "/entries.csv")).status_code == 200
    content = b"ref;lang;question;answer;tags\r\nx;fr;Q ?;R.;\r\n"
    assert viewer.post(faq(brand.id, "/entries.csv"), data=content, content_type="text/csv").status_code == 403
    assert refs(session, brand.id) == ["delivery"]
