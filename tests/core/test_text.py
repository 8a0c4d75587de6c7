from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.text import slugify


def test_it_folds_accents_and_punctuation():
    assert slugify("Café Noël & Co") == "cafe-noel-co"
    assert slugify("  --Vélo  Rapide!!  ") == "velo-rapide"


def test_it_returns_empty_for_names_without_letters_or_digits():
    assert slugify("★★★") == ""


@given(st.text(max_size=200))
def test_slugs_are_always_url_safe_and_bounded(text):
    slug = slugify(text)
    assert len(slug) <= 60
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-")
