"""Every string of code and templates is in French; pages speak the visitor's language."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRENCH_PO = PROJECT_ROOT / "marketplace" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}  # lazy_gettext is imported `as _l`
SOURCES = [
    (PROJECT_ROOT / "marketplace", [("**.py", "python")], {}),
    (
        PROJECT_ROOT / "templates",
        [("**.html", "jinja2")],
        {"**.html": {"extensions": "jinja2.ext.do"}},  # the templates use {% do %}
    ),
]
# %(name)s, %(count)d, ... with any conversion flags, width or precision.
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0\- +]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH_BROWSER = {"Accept-Language": "en"}


@cache
def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """msgid (a tuple for plurals) -> where it occurs, as babel's extractor sees them."""
    found: dict[str | tuple[str, ...], list[str]] = {}
    for folder, method_map, options_map in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(folder), method_map, options_map, keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else tuple(message)
            found.setdefault(key, []).append(f"{folder.name}/{filename}:{lineno}")
    return found


@cache
def french() -> Catalog:
    with FRENCH_PO.open("rb") as po_file:
        return read_po(po_file, locale="fr")


def translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(s and s.strip() for s in strings)


def placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_the_extractor_finds_the_strings_of_both_code_and_templates():
    sources = {where.split("/", 1)[0] for places in extracted().values() for where in places}
    assert sources == {"marketplace", "templates"}
    assert "Log in" in extracted()
    assert "Use at least %(count)d characters." in extracted()  # a lazy `_l` string


def test_the_catalogue_header_is_french():
    catalog = french()
    assert str(catalog.locale) == "fr"
    assert catalog.plural_forms == "nplurals=2; plural=(n > 1);"
    assert catalog.charset.lower() == "utf-8"
    assert not catalog.fuzzy


def test_every_extracted_string_has_a_french_translation():
    catalog = french()
    missing = [
        f"{msgid!r} ({', '.join(places)})"
        for msgid, places in sorted(extracted().items(), key=lambda item: str(item[0]))
        if not translated(catalog.get(msgid if isinstance(msgid, str) else msgid[0]))
    ]
    report = "\n".join(missing)
    assert not missing, f"{len(missing)} msgid(s) without a French translation:\n{report}"


def test_the_catalogue_has_no_fuzzy_entries():
    fuzzy = [message.id for message in french() if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    wrong = []
    for message in french():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        expected = placeholders(ids[-1])
        for string in strings:
            if placeholders(string or "") != expected:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_a_french_browser_gets_the_login_page_in_french(client):
    page = client.get("/login", headers=FRENCH_BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="fr">' in html
    assert "<title>Se connecter · Marketplace</title>" in html
    assert "<h1>Se connecter</h1>" in html
    assert "Mot de passe oublié" in html
    assert "Devenir expert" in html
    assert "Log in" not in html
    assert "Forgot your password?" not in html


def test_an_english_browser_gets_the_login_page_in_english(client):
    page = client.get("/login", headers=ENGLISH_BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html
    assert "Forgot your password?" in html
    assert "Se connecter" not in html


def test_the_lang_cookie_wins_over_the_browser_language(app, client):
    domain = app.config["SERVER_NAME"]  # the test client's requests go to this host
    client.set_cookie("lang", "fr", domain=domain)
    html = client.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "<h1>Se connecter</h1>" in html

    client.set_cookie("lang", "en", domain=domain)
    html = client.get("/login", headers=FRENCH_BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html
