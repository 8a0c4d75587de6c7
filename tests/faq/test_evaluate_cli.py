"""`marketplace faq evaluate` on a brand's base in the database, as a person would run it."""

from __future__ import annotations

import json

import pytest

from marketplace.cli import cli
from marketplace.faq import answering
from marketplace.faq.demo_base import demo_entries
from marketplace.faq.models import FaqEntry, FaqSettings
from tests.factories import BrandFactory


def run(app, *args: str):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def brand(session):
    answering._indexes.clear()  # a rolled-back brand's id comes back: its cached index must not
    brand = BrandFactory(slug="lumiere")
    for entry in demo_entries("maison-lumiere"):
        session.add(FaqEntry(brand_id=brand.id, **entry))
    session.add(FaqSettings(brand_id=brand.id, bot_enabled=True, threshold=0.7, resolve_after_minutes=10,
                            credit_cents=0, synonyms="", version=1))
    session.flush()
    yield brand
    answering._indexes.clear()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def test_evaluate_prints_the_figures_at_the_brands_threshold_and_across_thresholds(app, brand, tmp_path):
    path = write_jsonl(tmp_path / "messages.jsonl", [
        {"text": "Quels sont vos délais de livraison ?", "ref": "delais-livraison"},
        {"text": "how long is the warranty?", "ref": "warranty", "lang": "en"},
        {"text": "je veux parler à un conseiller", "ref": ""},
        {"text": "Quel temps fait-il à Lyon demain ?", "ref": None},
    ])
    result = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", path)
    assert result.exit_code == 0, result.output
    assert "4 messages, 2 answerable, 2 that the bot must not answer." in result.output
    assert ("At the brand's threshold 0.70: coverage 1.000, precision 1.000, false answers 0.000 (2 answered)."
            in result.output)
    assert "threshold  coverage  precision  false answers  answered" in result.output
    assert "     0.95" in result.output
    assert "Reliability" in result.output


def test_a_file_of_several_brands_is_read_for_the_brand_asked_only(app, brand, tmp_path):
    path = write_jsonl(tmp_path / "messages.jsonl", [
        {"brand": "lumiere", "text": "Quels sont vos délais de livraison ?", "ref": "delais-livraison"},
        {"brand": "velo", "text": "Quelle autonomie pour la batterie ?", "ref": "autonomie"},
        {"text": "je veux parler à un conseiller", "ref": ""},
    ])
    result = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", path)
    assert result.exit_code == 0, result.output
    assert "(1 message of other brands left out)" in result.output
    assert "2 messages, 1 answerable, 1 that the bot must not answer." in result.output
    none = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", write_jsonl(tmp_path / "velo.jsonl", [
        {"brand": "velo", "text": "Quelle autonomie ?", "ref": "autonomie"}]))
    assert none.exit_code == 2 and "--file" in none.output


def test_evaluate_reads_a_csv_file(app, brand, tmp_path):
    path = tmp_path / "messages.csv"
    path.write_text("text,ref,lang\n\"Vous livrez en Suisse ?\",livraison-etranger,fr\nbonjour,,\n",
                    encoding="utf-8")
    result = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", str(path))
    assert result.exit_code == 0, result.output
    assert "2 messages, 1 answerable" in result.output


def test_evaluate_names_the_brand_option_for_an_unknown_brand(app, brand, tmp_path):
    path = write_jsonl(tmp_path / "messages.jsonl", [{"text": "hello", "ref": ""}])
    result = run(app, "faq", "evaluate", "--brand", "nope", "--file", path)
    assert result.exit_code == 2
    assert "--brand" in result.output


@pytest.mark.parametrize(("name", "content", "says"), [
    ("bad.jsonl", "{not json}\n", "line 1: not JSON"),
    ("no-ref.jsonl", '{"text": "hello"}\n', "`ref` is missing"),
    ("no-text.jsonl", '{"ref": "x"}\n', "`text` is missing"),
    ("bad-lang.jsonl", '{"text": "hello", "ref": "", "lang": "de"}\n', "`lang` must be fr or en"),
    ("no-text-column.csv", "message,ref\nhello,\n", "no `text` column"),
    ("empty.jsonl", "\n", "has no message"),
])
def test_evaluate_names_the_file_option_for_a_bad_file(app, brand, tmp_path, name, content, says):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", str(path))
    assert result.exit_code == 2
    assert "--file" in result.output and says in result.output


def test_evaluate_refuses_a_missing_file(app, brand, tmp_path):
    result = run(app, "faq", "evaluate", "--brand", "lumiere", "--file", str(tmp_path / "absent.jsonl"))
    assert result.exit_code == 2
    assert "--file" in result.output


def test_calibrate_prints_constants_to_paste(app, tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [
        {"brand": "maison-lumiere", "text": "vous livrez en combien de temps", "ref": "delais-livraison"},
        {"brand": "velo-rapide", "text": "do you sell cars?", "ref": ""},
    ])
    result = run(app, "faq", "calibrate", "--file", path)
    assert result.exit_code == 0, result.output
    assert "INTERCEPT = " in result.output and '"phrasing_covered": ' in result.output
