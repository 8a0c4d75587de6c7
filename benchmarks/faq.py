#!/usr/bin/env python
"""FAQ bot benchmark (issue 20, DESIGN.md section 8): answer latency with 10,000 entries over 50 brands.

Run from the project root with the project's virtualenv:

    python benchmarks/faq.py --json                 # SQLite and PostgreSQL, about 2 minutes
    python benchmarks/faq.py --quick --json         # 10 brands, fewer queries
    python benchmarks/faq.py --databases sqlite --brands 2 --entries 20 --queries 50 --json   # the smoke test's

Each run makes a fresh migrated database: a temporary SQLite file, and a scratch `mk_bench_faq_*` PostgreSQL
database on `--pg-admin-url` (dropped at the end; `null` with the reason when the server is not reachable;
`--database-url` runs on that database alone instead, filled and not dropped). It gets `--brands` brands (50),
each with its bot on and `--entries` entries (200, half French, half English), made from a bank of subjects
(delivery, returns, sizes, payment, loyalty card...) and ways of asking about them (how long, how much, where,
can I...), with the brand's own product names in them, one to three phrasings per entry.

The queries are paraphrases of random entries (another way of asking, synonyms, missing accents, a typo, SMS
spelling, a greeting or some context around it) and unrelated messages (weather, recipes, football), one in four.

Timed, through the app's own service `faq.answering.answer(brand_id, text)`, each call inside its own app context
as a request has it (its session, its read of the brand's settings, its end of transaction):

- warm: the brand's index is built already (every brand answered once before): p50 / p90 / p99 / max, and what
  the bot did with the queries (paraphrases answered, answered with the entry they paraphrase, unrelated messages
  answered: a sanity figure, the matcher's evaluation is `marketplace faq evaluate`'s);
- cold: the first answer after the brand's base changed (its version moved, as any edit moves it): the read of
  its entries and the index build, per brand, `--cold-rounds` times over the brands.

Baselines in the same run, with the database driver directly (sqlite3 / psycopg, no ORM, no app context):
`bare_settings_read` is the one read a warm answer makes (the brand's settings row), `bare_entries_read` the read a
cold answer makes (the brand's active entries), and `plain_overlap_scorer` is a plain token-overlap scorer (lower
case, split on non-letters, Jaccard over each entry's words, best entry) over the same entries and queries, in
memory. Ratios are app / baseline. Figures are percentiles and ratios, never pass or fail; the target (p99 <= 50
ms warm, on both databases) is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import benchlib
from benchlib import SECRET, log, ms, percentile, ratio

TARGET_P99_MS = 50.0

# The bank the entries are made from: (subject in French, in English, the French and English words visitors use
# for it instead), and the ways of asking about a subject.
SUBJECTS = [
    ("la livraison", "delivery", ["l'expédition", "l'envoi"], ["shipping", "dispatch"]),
    ("les retours", "returns", ["le renvoi d'un article", "rendre un produit"], ["sending back an item", "returning"]),
    ("le remboursement", "a refund", ["être remboursé", "récupérer mon argent"], ["getting my money back", "refunds"]),
    ("la garantie", "the warranty", ["la garantie constructeur", "le SAV"], ["the guarantee", "after-sales"]),
    ("le paiement en plusieurs fois", "paying in instalments", ["payer en 3 fois", "le paiement fractionné"],
     ["split payment", "pay in 3"]),
    ("la carte cadeau", "the gift card", ["le bon cadeau", "la e-carte cadeau"], ["gift voucher", "e-gift card"]),
    ("la carte de fidélité", "the loyalty card", ["le programme fidélité", "les points fidélité"],
     ["loyalty points", "rewards programme"]),
    ("le retrait en magasin", "click and collect", ["le click and collect", "récupérer en boutique"],
     ["store pickup", "collecting in store"]),
    ("les tailles", "sizing", ["le guide des tailles", "choisir ma taille"], ["the size guide", "which size"]),
    ("l'entretien", "care", ["le nettoyage", "laver"], ["cleaning", "washing"]),
    ("le montage", "assembly", ["l'assemblage", "monter le meuble"], ["putting it together", "assembling"]),
    ("les frais de port", "shipping costs", ["le coût de livraison", "les frais d'envoi"],
     ["delivery charges", "postage"]),
    ("la livraison à l'étranger", "international delivery", ["l'envoi hors de France", "livrer en Belgique"],
     ["shipping abroad", "delivery to Belgium"]),
    ("le suivi de colis", "parcel tracking", ["suivre mon envoi", "le numéro de suivi"],
     ["tracking number", "track my parcel"]),
    ("l'échange", "an exchange", ["échanger un article", "changer de taille"], ["swapping an item", "exchanging"]),
    ("les codes promo", "promo codes", ["un code de réduction", "les bons de réduction"],
     ["discount codes", "coupons"]),
    ("la facture", "the invoice", ["une facture", "le justificatif d'achat"], ["a receipt", "proof of purchase"]),
    ("le compte client", "my account", ["mon espace client", "créer un compte"], ["customer account", "sign up"]),
    ("le mot de passe", "the password", ["mot de passe oublié", "réinitialiser mon mot de passe"],
     ["forgot password", "reset my password"]),
    ("la newsletter", "the newsletter", ["se désinscrire des e-mails", "les e-mails promotionnels"],
     ["unsubscribe", "marketing emails"]),
    ("les horaires du magasin", "store opening hours", ["l'heure d'ouverture", "ouvert le dimanche"],
     ["opening times", "open on Sunday"]),
    ("la réparation", "repairs", ["faire réparer", "une pièce détachée"], ["getting it fixed", "spare parts"]),
    ("les matériaux", "materials", ["la composition", "le tissu"], ["fabric", "what it is made of"]),
    ("le stock", "stock", ["la disponibilité", "le réassort"], ["availability", "back in stock"]),
    ("la précommande", "pre-orders", ["précommander", "la date de sortie"], ["pre-ordering", "release date"]),
    ("le paiement par PayPal", "paying with PayPal", ["payer avec PayPal", "les moyens de paiement"],
     ["PayPal", "payment methods"]),
    ("la TVA", "VAT", ["les taxes", "le prix hors taxe"], ["tax", "prices without VAT"]),
    ("l'emballage cadeau", "gift wrapping", ["un paquet cadeau", "emballer pour offrir"],
     ["gift wrap", "wrapping a present"]),
    ("la livraison express", "express delivery", ["livraison le lendemain", "livraison rapide"],
     ["next-day delivery", "fast shipping"]),
    ("les avis clients", "customer reviews", ["laisser un avis", "les notes"], ["leave a review", "ratings"]),
    ("le recyclage", "recycling", ["reprendre mon ancien produit", "la reprise"], ["take-back", "trade-in"]),
    ("la personnalisation", "personalisation", ["une gravure", "personnaliser"], ["engraving", "customising"]),
    ("les entreprises", "business orders", ["commande professionnelle", "un devis"], ["a quote", "corporate orders"]),
    ("les étudiants", "student discount", ["réduction étudiante", "tarif étudiant"], ["student prices", "UNiDAYS"]),
    ("le point relais", "pickup points", ["livraison en relais", "Mondial Relay"], ["parcel lockers", "relay point"]),
    ("la rétractation", "the cooling-off period", ["le délai de rétractation", "annuler mon achat"],
     ["cancelling a purchase", "withdrawal period"]),
    ("les allergènes", "allergens", ["contient des noix", "sans gluten"], ["gluten free", "contains nuts"]),
    ("la batterie", "the battery", ["l'autonomie", "recharger"], ["battery life", "charging"]),
    ("le mode d'emploi", "the user manual", ["la notice", "les instructions"], ["instructions", "how-to guide"]),
    ("l'abonnement", "the subscription", ["résilier mon abonnement", "suspendre l'abonnement"],
     ["cancel my subscription", "pause the subscription"]),
]
ASPECTS = [
    ("Quel est le délai pour {s} ?", "How long does {s} take?",
     ["Combien de temps pour {s}", "{s} ça prend combien de jours"], ["how many days for {s}", "{s} how long"]),
    ("Combien coûte {s} ?", "How much is {s}?",
     ["{s} c'est payant", "quel est le prix de {s}"], ["is {s} free", "what does {s} cost"]),
    ("Comment fonctionne {s} ?", "How does {s} work?",
     ["je comprends pas {s}", "expliquez moi {s}"], ["explain {s}", "i don't get {s}"]),
    ("Quelles sont les conditions pour {s} ?", "What are the conditions for {s}?",
     ["{s} sous quelles conditions", "les règles pour {s}"], ["rules for {s}", "{s} terms"]),
    ("Est-ce possible pour {p} : {s} ?", "Is {s} possible for the {p}?",
     ["{s} marche pour {p}", "on peut avoir {s} avec {p}"], ["{s} with the {p}", "can i get {s} for {p}"]),
]
PRODUCTS = ["canapé Oslo", "lampe Arc", "veste Tweed", "sneakers Volt", "montre Nova", "sac Lune", "théière Kyoto",
            "vélo Rando", "casque Pulse", "parfum Ambre", "table Chêne", "matelas Nuage"]
GREETINGS = ["Bonjour, ", "Salut ", "bjr ", "Hello, ", "Hi, ", "", "", ""]
CONTEXT_FR = ["J'ai commandé la semaine dernière pour l'anniversaire de ma sœur et je me demandais : ",
              "Petite question avant d'acheter : ", "Je regarde votre site depuis hier, "]
CONTEXT_EN = ["I bought something last week for my sister's birthday and wondered: ",
              "Quick question before I buy: ", "I've been looking at your site since yesterday, "]
SMS = {"pour": "pr", "quoi": "koi", "vous": "vs", "combien": "cmb", "beaucoup": "bcp", "avec": "avc", "please": "pls",
       "you": "u", "are": "r", "for": "4"}
UNRELATED = ["Quel temps fera-t-il à Marseille demain ?", "Tu connais une bonne recette de tarte aux pommes ?",
             "Qui a gagné le match de foot hier soir ?", "What is the capital of Australia?",
             "Can you recommend a good film for tonight?", "Comment on dit merci en japonais",
             "my cat keeps sleeping on the keyboard lol", "Le train de 8h12 est-il à l'heure ?",
             "What time is it in Tokyo right now?", "j'ai perdu mes clés dans le métro",
             "Best way to learn the guitar quickly?", "Combien de calories dans un croissant ?"]

_ACCENTS = str.maketrans("àâäéèêëîïôöùûüç", "aaaeeeeiioouuuc")
_WORDS = re.compile(r"[a-zà-ÿ0-9]+")


def make_entries(rng: random.Random, count: int) -> list[dict]:
    """One brand's entries: half French, half English, each a subject and a way of asking, with its phrasings."""
    pairs = [(s, a) for s in range(len(SUBJECTS)) for a in range(len(ASPECTS))]
    rng.shuffle(pairs)
    products = rng.sample(PRODUCTS, 4)
    entries = []
    for number in range(count):
        subject, aspect = pairs[(number // 2) % len(pairs)]
        lang = "fr" if number % 2 == 0 else "en"
        fr, en, fr_alt, en_alt = SUBJECTS[subject]
        ask_fr, ask_en, _, _ = ASPECTS[aspect]
        product = products[number % len(products)]
        if lang == "fr":
            lines = [ask_fr.format(s=fr, p=product)] + [ask_fr.format(s=alt, p=product)
                                                        for alt in fr_alt[:rng.randint(0, 2)]]
            answer = (f"Pour {fr} ({product}), comptez 3 à 5 jours ouvrés. Tout est détaillé dans votre espace "
                      f"client, rubrique {fr_alt[0]}.")
        else:
            lines = [ask_en.format(s=en, p=product)] + [ask_en.format(s=alt, p=product)
                                                        for alt in en_alt[:rng.randint(0, 2)]]
            answer = (f"For {en} on the {product}, allow 3 to 5 working days. Your account page has every detail "
                      f"under {en_alt[0]}.")
        entries.append({"ref": f"{lang}-{subject}-{aspect}-{number}", "lang": lang, "question": "\n".join(lines),
                        "answer": answer, "subject": subject, "aspect": aspect, "product": product})
    return entries


def typo(rng: random.Random, text: str) -> str:
    words = text.split()
    long = [i for i, word in enumerate(words) if len(word) > 4]
    if not long:
        return text
    i = rng.choice(long)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words)


def paraphrase(rng: random.Random, entry: dict) -> str:
    """Another way of asking an entry's question, as visitors write."""
    fr, en, fr_alt, en_alt = SUBJECTS[entry["subject"]]
    _, _, ways_fr, ways_en = ASPECTS[entry["aspect"]]
    if entry["lang"] == "fr":
        text = rng.choice(ways_fr).format(s=rng.choice([fr, *fr_alt]), p=entry["product"])
        context = CONTEXT_FR
    else:
        text = rng.choice(ways_en).format(s=rng.choice([en, *en_alt]), p=entry["product"])
        context = CONTEXT_EN
    roll = rng.random()
    if roll < 0.25:
        text = text.translate(_ACCENTS)
    elif roll < 0.45:
        text = typo(rng, text)
    elif roll < 0.6:
        text = " ".join(SMS.get(word, word) for word in text.lower().split())
    elif roll < 0.75:
        text = rng.choice(context) + text
    return rng.choice(GREETINGS) + text + rng.choice(["", " ?", " svp", " thanks", " merci !"])


def make_queries(rng: random.Random, brand_entries: dict[int, list[dict]],
                 count: int) -> list[tuple[int, str, str | None]]:
    """(brand id, message, the ref of the entry it paraphrases or None for an unrelated one)."""
    brand_ids = list(brand_entries)
    queries = []
    for _ in range(count):
        brand_id = rng.choice(brand_ids)
        if rng.random() < 0.25:
            queries.append((brand_id, rng.choice(GREETINGS) + rng.choice(UNRELATED), None))
        else:
            source = rng.choice(brand_entries[brand_id])
            queries.append((brand_id, paraphrase(rng, source), source["ref"]))
    return queries


# The app and its data.

def make_app(database_url: str):
    from marketplace import create_app

    environ = {"MARKETPLACE_ENV": "test", "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
               "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": "false", "SCHEDULER_MODE": "off",
               "WEB_PUSH_DELIVERY": "off"}
    return create_app({}, environ=environ)


def seed(app, n_brands: int, n_entries: int, rng: random.Random) -> dict[int, list[dict]]:
    """Brands with their bot on and their entries, bulk inserted and committed; {brand id: its entries}."""
    import sqlalchemy as sa

    from marketplace.brands.models import Brand
    from marketplace.database import db
    from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings

    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        brand_ids = list(db.session.scalars(
            sa.insert(Brand).returning(Brand.id, sort_by_parameter_order=True),
            [{"name": f"FAQ brand {i}", "slug": f"faq-{tag}-{i}", "timezone": "Europe/Paris", "currency": "EUR",
              "widget_origins": [], "topics": []} for i in range(n_brands)]))
        made = {brand_id: make_entries(rng, n_entries) for brand_id in brand_ids}
        db.session.execute(sa.insert(FaqSettings), [
            {"brand_id": brand_id, "bot_enabled": True, "threshold": 0.6, "resolve_after_minutes": 10,
             "credit_cents": 0, "synonyms": "livraison, expedition, envoi\nremboursement, rembourse", "version": 1}
            for brand_id in brand_ids])
        db.session.execute(sa.insert(FaqEntry), [
            {"brand_id": brand_id, "ref": entry["ref"], "lang": entry["lang"], "question": entry["question"],
             "answer": entry["answer"], "tags": [], "active": True, "status": EntryStatus.ACTIVE}
            for brand_id, entries in made.items() for entry in entries])
        db.session.commit()
        db.session.remove()
    return made


def answer_once(app, brand_id: int, text: str) -> tuple[float, object]:
    """One answer as a request makes it: its own app context (session), timed from the push to the pop."""
    from marketplace.faq import answering

    started = time.perf_counter()
    with app.app_context():
        found = answering.answer(brand_id, text)
    return time.perf_counter() - started, found


def move_version(app, brand_id: int) -> None:
    """What any edit of the base does: move its version (the next answer rebuilds the index)."""
    import sqlalchemy as sa

    from marketplace.database import db
    from marketplace.faq.models import FaqSettings

    with app.app_context():
        db.session.execute(sa.update(FaqSettings).where(FaqSettings.brand_id == brand_id)
                           .values(version=FaqSettings.version + 1))
        db.session.commit()


def answered_shares(answers: list[tuple[str | None, str | None]]) -> dict:
    """What the bot did with the queries (a sanity figure of the run, not the evaluation of the matcher)."""
    paraphrases = [(source, ref) for source, ref in answers if source is not None]
    unrelated = [ref for source, ref in answers if source is None]
    return {"paraphrases": len(paraphrases), "unrelated": len(unrelated),
            "paraphrases_answered": sum(ref is not None for _, ref in paraphrases),
            "paraphrases_answered_with_their_entry": sum(ref == source for source, ref in paraphrases),
            "unrelated_answered": sum(ref is not None for ref in unrelated)}


def latency(seconds: list[float]) -> dict:
    return {"count": len(seconds), "p50_ms": ms(percentile(seconds, 50)), "p90_ms": ms(percentile(seconds, 90)),
            "p99_ms": ms(percentile(seconds, 99)), "max_ms": ms(max(seconds) if seconds else None)}


# Baselines: the driver alone, and a plain scorer.

SETTINGS_SQL = "SELECT bot_enabled, threshold, synonyms, version FROM faq_settings WHERE brand_id = ?"
ENTRIES_SQL = ("SELECT id, ref, lang, question, answer, tags FROM faq_entries "
               "WHERE brand_id = ? AND status = 'active' AND active")


class Driver:
    """The database driver without the ORM: the reads an answer makes, bare."""

    def __init__(self, database_url: str) -> None:
        if database_url.startswith("sqlite"):
            self.connection = sqlite3.connect(database_url.split("///", 1)[1])
            self.settings_sql, self.entries_sql = SETTINGS_SQL, ENTRIES_SQL
        else:
            import psycopg

            self.connection = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
            self.settings_sql, self.entries_sql = (sql.replace("?", "%s") for sql in (SETTINGS_SQL, ENTRIES_SQL))

    def settings(self, brand_id: int) -> tuple:
        row = self.connection.execute(self.settings_sql, (brand_id,)).fetchone()
        self.connection.commit()
        return row

    def entries(self, brand_id: int) -> list[tuple]:
        rows = self.connection.execute(self.entries_sql, (brand_id,)).fetchall()
        self.connection.commit()
        return rows

    def close(self) -> None:
        self.connection.close()


def plain_words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


class PlainScorer:
    """Token overlap (Jaccard) of the message's words with each entry's question words; the best entry."""

    def __init__(self, rows: list[tuple]) -> None:
        self.entries = [(row[0], plain_words(row[3])) for row in rows]

    def best(self, text: str) -> tuple[int | None, float]:
        asked = plain_words(text)
        best_id, best = None, 0.0
        for entry_id, words in self.entries:
            union = len(asked | words)
            score = len(asked & words) / union if union else 0.0
            if score > best:
                best_id, best = entry_id, score
        return best_id, best


def timed_each(work, items) -> list[float]:
    seconds = []
    for item in items:
        started = time.perf_counter()
        work(item)
        seconds.append(time.perf_counter() - started)
    return seconds


# One database.

def bench_database(args, database_url: str) -> dict:
    from marketplace.database import db

    rng = random.Random(args.seed)  # noqa: S311 - reproducible test data, not secrets
    app = make_app(database_url)
    try:
        revision = benchlib.migrate(app)
        started = time.perf_counter()
        made = seed(app, args.brands, args.entries, rng)
        log(f"    seeded {args.brands} brands x {args.entries} entries in {time.perf_counter() - started:.1f} s")
        brand_ids = list(made)
        queries = make_queries(rng, made, args.queries)

        first = timed_each(lambda brand_id: answer_once(app, brand_id, "bonjour, la livraison ?"), brand_ids)
        log(f"    first answer of every brand (index built): p50 {ms(percentile(first, 50))} ms")
        for _ in range(min(args.warmup, len(queries))):
            answer_once(app, *queries[rng.randrange(len(queries))][:2])
        warm, answers = [], []
        for brand_id, text, source in queries:
            seconds, found = answer_once(app, brand_id, text)
            warm.append(seconds)
            answers.append((source, found.entry["ref"] if found.entry else None))
        warm_figures = {**latency(warm), "answers": answered_shares(answers)}
        log(f"    warm: {warm_figures}")

        cold = []
        for _ in range(args.cold_rounds):
            for brand_id in brand_ids:
                move_version(app, brand_id)
                seconds, _found = answer_once(app, brand_id, queries[rng.randrange(len(queries))][1])
                cold.append(seconds)
        cold_figures = latency(cold)
        log(f"    cold (base changed, index rebuilt): {cold_figures}")

        driver = Driver(database_url)
        try:
            bare_settings = timed_each(lambda query: driver.settings(query[0]), queries)
            bare_entries = timed_each(driver.entries, brand_ids * args.cold_rounds)
            scorers = {brand_id: PlainScorer(driver.entries(brand_id)) for brand_id in brand_ids}
        finally:
            driver.close()
        plain = timed_each(lambda query: scorers[query[0]].best(query[1]), queries)
        baselines = {"bare_settings_read": latency(bare_settings), "bare_entries_read": latency(bare_entries),
                     "plain_overlap_scorer": latency(plain)}
        log(f"    baselines: {baselines}")
        return {
            "database": database_url.split(":", 1)[0].split("+", 1)[0], "schema_revision": revision,
            "brands": args.brands, "entries_per_brand": args.entries, "entries": args.brands * args.entries,
            "queries": len(queries), "warm": warm_figures, "cold_index_build_per_brand": cold_figures,
            "first_answer_per_brand": latency(first), "baselines": baselines,
            "ratios": {
                "warm_p50_to_bare_settings_read_p50": ratio(warm_figures["p50_ms"],
                                                            baselines["bare_settings_read"]["p50_ms"]),
                "warm_p50_to_plain_scorer_p50": ratio(warm_figures["p50_ms"],
                                                      baselines["plain_overlap_scorer"]["p50_ms"]),
                "warm_p99_to_plain_scorer_plus_settings_read_p99": ratio(
                    warm_figures["p99_ms"], (baselines["plain_overlap_scorer"]["p99_ms"] or 0)
                    + (baselines["bare_settings_read"]["p99_ms"] or 0)),
                "cold_p50_to_bare_entries_read_p50": ratio(cold_figures["p50_ms"],
                                                           baselines["bare_entries_read"]["p50_ms"]),
            },
            "target": {"warm_p99_ms": TARGET_P99_MS, "reached": warm_figures["p99_ms"] is not None
                       and warm_figures["p99_ms"] <= TARGET_P99_MS},
        }
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def bench_postgres(args) -> tuple[dict | None, str | None]:
    try:
        import psycopg

        admin = psycopg.connect(args.pg_admin_url, autocommit=True, connect_timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is the reason reported
        return None, f"PostgreSQL not reachable at {args.pg_admin_url}: {type(error).__name__}: {error}"
    database = f"mk_bench_faq_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    host = args.pg_admin_url.rsplit("/", 1)[0].split("://", 1)[1]
    try:
        admin.execute(f'CREATE DATABASE "{database}"')
        return bench_database(args, f"postgresql+psycopg://{host}/{database}"), None
    finally:
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except psycopg.Error as error:
            log(f"    could not drop {database}: {error}")
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="10 brands and 1,000 queries")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--brands", type=int, help="brands [50, quick 10]")
    parser.add_argument("--entries", type=int, default=200, help="entries per brand [200]")
    parser.add_argument("--queries", type=int, help="timed warm answers [5000, quick 1000]")
    parser.add_argument("--warmup", type=int, default=200, help="untimed answers before the warm ones [200]")
    parser.add_argument("--cold-rounds", type=int, default=3, help="index rebuilds timed per brand [3]")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="which, comma-separated, of sqlite and postgresql [both]")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where a scratch database is made and dropped")
    parser.add_argument("--database-url", help="run on this database alone (filled, not dropped) instead")
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    benchlib.VERBOSE = not args.quiet
    args.brands = args.brands or (10 if args.quick else 50)
    args.queries = args.queries or (1000 if args.quick else 5000)
    databases = set(args.databases.split(","))
    if not databases or not databases <= {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite and postgresql")

    started = time.perf_counter()
    report: dict = {
        "benchmark": "faq", "quick": args.quick, "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": round(os.getloadavg()[0], 2)},
        "target": {"warm_p99_ms": TARGET_P99_MS, "entries": 10_000, "brands": 50},
    }
    if args.database_url:
        log(f"[{args.database_url.split(':', 1)[0]}] {args.brands} brands x {args.entries} entries")
        report["given_database"] = bench_database(args, args.database_url)
    else:
        if "sqlite" in databases:
            log(f"[sqlite] {args.brands} brands x {args.entries} entries, {args.queries} queries")
            with tempfile.TemporaryDirectory(prefix="mk-bench-faq-") as folder:
                report["sqlite"] = bench_database(args, f"sqlite:///{Path(folder) / 'faq.db'}")
        if "postgresql" in databases:
            log(f"[postgresql] {args.brands} brands x {args.entries} entries, {args.queries} queries")
            report["postgresql"], reason = bench_postgres(args)
            if reason:
                report["postgresql_skipped"] = reason
                log(f"    {reason}")
    measured = [report[name] for name in ("sqlite", "postgresql", "given_database") if report.get(name)]
    report["target"]["reached"] = bool(measured) and all(part["target"]["reached"] for part in measured)
    report["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
