"""`marketplace faq`: how well a brand's bot answers a file of messages, and the calibration's refit."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from marketplace.faq import evaluation

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group()
def faq() -> None:
    """The FAQ bot: evaluate a brand's base, refit the confidence."""


def _rows(path: Path) -> list[evaluation.Row]:
    try:
        return evaluation.read_rows(path)
    except evaluation.BadFile as error:
        raise click.BadParameter(str(error), param_hint="--file") from None


def _percent(value: float | None) -> str:
    return "   -" if value is None else f"{value:5.2f}"


def _print_figures(found: list[evaluation.Outcome], threshold: float) -> None:
    at = evaluation.figures(found, threshold)
    click.echo(f"{at['messages']} messages, {at['answerable']} answerable, {at['messages'] - at['answerable']} "
               f"that the bot must not answer.")
    click.echo(f"At the brand's threshold {threshold:.2f}: coverage {at['coverage']:.3f}, precision "
               f"{at['precision']:.3f}, false answers {at['false_rate']:.3f} ({at['answered']} answered).")
    click.echo("\nthreshold  coverage  precision  false answers  answered")
    for row in evaluation.across(found):
        click.echo(f"{row['threshold']:9.2f}  {row['coverage']:8.3f}  {row['precision']:9.3f}  "
                   f"{row['false_rate']:13.3f}  {row['answered']:8d}")
    click.echo("\nReliability (the bot's best entry per message, guards aside):")
    click.echo("confidence   answers  mean confidence  share right")
    for band in evaluation.reliability(found):
        click.echo(f"{band['low']:.1f}-{band['high']:.1f}    {band['count']:8d}  {_percent(band['confidence']):>15}"
                   f"  {_percent(band['right']):>11}")


@faq.command()
@click.option("--brand", "brand_slug", required=True, help="The brand's short name.")
@click.option("--file", "path", required=True, type=_FILE,
              help="JSONL or CSV: text, ref (empty: the bot must not answer), optional lang (fr|en) and brand "
                   "(rows of other brands are left out).")
@with_appcontext
def evaluate(brand_slug: str, path: Path) -> None:
    """Coverage, precision and false answers of the brand's bot on a file of messages, across thresholds."""
    from marketplace.brands import services as brands
    from marketplace.errors import DomainError
    from marketplace.faq import answering

    try:
        brand_id = brands.brand_id_for_slug(brand_slug)
    except DomainError as error:
        raise click.BadParameter(str(error.message), param_hint="--brand") from None
    rows = _rows(path)
    # A file of several brands' messages (a `brand` column): this brand's rows; the others are theirs to evaluate.
    others = sum(1 for row in rows if row.brand not in (None, brand_slug))
    rows = [row for row in rows if row.brand in (None, brand_slug)]
    if not rows:
        raise click.BadParameter(f"the file holds no message of {brand_slug}.", param_hint="--file")
    guarded = {reason.value for reason in answering.matching.GUARDED}

    def answer(text: str, lang: str | None) -> tuple[str | None, float, bool]:
        found = answering.answer(brand_id, text, lang, threshold=0.0)
        return (found.entry or {}).get("ref"), found.confidence, found.reason in guarded

    threshold = answering.settings_of(brand_id).threshold
    click.echo(f"Brand {brand_slug}, file {path.name}:"
               + (f" ({others} message{'' if others == 1 else 's'} of other brands left out)" if others else ""))
    _print_figures(evaluation.outcomes(answer, rows), threshold)


@faq.command()
@click.option("--file", "path", required=True, type=_FILE,
              help="The training messages (JSONL with brand, text, ref) of the demo brands.")
@click.option("--ridge", default=1.0, show_default=True, type=click.FloatRange(0, 100),
              help="How strongly the coefficients are pulled towards 0.")
def calibrate(path: Path, ridge: float) -> None:
    """Refit the confidence (core/faq/calibration.py) on the demo bases and a training file; print the constants."""
    from marketplace.core.faq import calibration
    from marketplace.faq.demo_base import demo_entries, demo_slugs

    rows = _rows(path)
    bases = {slug: demo_entries(slug) for slug in demo_slugs()}
    model, features, right = evaluation.refit(bases, rows, ridge=ridge)
    click.echo(f"{len(features)} training rows, {sum(right)} right. Paste into core/faq/calibration.py:\n")
    click.echo(f"INTERCEPT = {model.intercept:.4f}")
    click.echo("COEFFICIENTS = {")
    for name in calibration.FEATURES:
        click.echo(f'    "{name}": {model.coefficients[name]:.4f},')
    click.echo("}\n\nOn the training rows:\nconfidence   answers  mean confidence  share right")
    fitted = [model.confidence(row) for row in features]
    for band in calibration.reliability(fitted, right):
        click.echo(f"{band['low']:.1f}-{band['high']:.1f}    {band['count']:8d}  {_percent(band['confidence']):>15}"
                   f"  {_percent(band['right']):>11}")
