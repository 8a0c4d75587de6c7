"""What people send for a brand's knowledge base, checked before anything is written: an entry's fields, the rows
of a list or of a CSV file, and the bot's settings.

Each cleaner takes a value and the field's name and returns the value clean, or raises InvalidInput naming the
field; a list's or a file's rows are refused all at once, each bad one named (`3.question` for a list's fourth row,
`4.lang` for a file's fourth line). Texts are plain: markup is stripped (not escaped), as in chat messages.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping

import nh3
from flask_babel import lazy_gettext as _l

from marketplace.errors import FieldProblems, InvalidInput
from marketplace.faq.models import LANGUAGES
from marketplace.shared import spreadsheets

REF = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TEXT_LENGTH = 2000  # the question's and the answer's columns
ASK_LENGTH = 4000  # a visitor's message tried against the base
TAG_LENGTH = 40
MAX_TAGS = 10
MAX_ENTRIES = 5000  # a brand's entries of every status; also the most rows a replace or an import takes
SYNONYM_LINES = 200
SYNONYM_LINE_LENGTH = 300
RESOLVE_MINUTES = (1, 1440)
CREDIT_CENTS = (0, 10_000)
CSV_COLUMNS = ("ref", "lang", "question", "answer", "tags")
CSV_MAX_BYTES = 4 * 1024 * 1024
MOST_PROBLEMS = 20  # a file full of mistakes: the first ones say what to fix
ENTRY_FIELDS = ("ref", "lang", "question", "answer", "tags", "active")


def plain_text(value: object, field: str, missing) -> str:
    """Text without markup (stripped, not escaped, as chat messages are), 1 to TEXT_LENGTH characters."""
    if not isinstance(value, str):
        raise InvalidInput(missing, field)
    text = html.unescape(nh3.clean(value, tags=set(), attributes={})).replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(missing, field)
    if len(text) > TEXT_LENGTH:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=TEXT_LENGTH), field)
    return text


def _ref(value: object, field: str) -> str:
    value = value.strip() if isinstance(value, str) else value
    if not (isinstance(value, str) and REF.match(value)):
        raise InvalidInput(_l("Give a ref of 1 to 64 letters, digits, dots, dashes or underscores."), field)
    return value


def lang(value: object, field: str) -> str:
    value = value.strip().lower() if isinstance(value, str) else value
    if value not in LANGUAGES:
        raise InvalidInput(_l("Choose fr or en."), field)
    return value


def _question(value: object, field: str) -> str:
    return plain_text(value, field, _l("Write the question."))


def _answer(value: object, field: str) -> str:
    return plain_text(value, field, _l("Write the answer."))


def _tags(value: object, field: str) -> list[str]:
    """Short labels, at most MAX_TAGS: a list, or one text with `;` between them (the CSV's and the form's way)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidInput(_l("Give the tags as a list of words."), field)
    tags: list[str] = []
    for tag in value:
        tag = " ".join(tag.split())
        if len(tag) > TAG_LENGTH or ";" in tag:
            raise InvalidInput(_l("Keep each tag under %(count)d characters, without ';'.", count=TAG_LENGTH), field)
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(_l("Give at most %(count)d tags.", count=MAX_TAGS), field)
    return tags


def _boolean(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_l("Say true or false."), field)
    return value


CLEANERS: dict[str, Callable[[object, str], object]] = {
    "ref": _ref, "lang": lang, "question": _question, "answer": _answer, "tags": _tags, "active": _boolean}
DEFAULTS = {"tags": list, "active": lambda: True}


def clean_entry(values: Mapping[str, object], *, partial: bool = False, prefix: str = "",
                fields: Iterable[str] = ENTRY_FIELDS) -> dict[str, object]:
    """The entry's fields checked (all of those without a default for a new one); every refusal at once, each
    named `prefix` + field."""
    problems = FieldProblems()
    cleaned: dict[str, object] = {}
    for field in fields:
        if field not in values:
            if not partial:
                if field in DEFAULTS:
                    cleaned[field] = DEFAULTS[field]()
                else:
                    problems.add(prefix + field, str(_l("This field is required.")))
            continue
        value = problems.check(lambda field=field: CLEANERS[field](values[field], prefix + field))
        if value is not None:
            cleaned[field] = value
    problems.raise_any()
    return cleaned


def clean_rows(rows: Iterable[tuple[str, object]], *, label: Callable[[str], str] | None = None
                ) -> list[dict[str, object]]:
    """Every row checked, each keyed (its index, its line); refuses them all at once naming each bad row's field
    (the first MOST_PROBLEMS), or a ref given twice."""
    problems = FieldProblems()
    cleaned: list[dict[str, object]] = []
    seen: set[object] = set()
    for key, row in rows:
        if len(problems.errors) >= MOST_PROBLEMS:
            break
        if not isinstance(row, Mapping):
            problems.add(key, str(_l("Each row is an object with ref, lang, question, answer and tags.")))
            continue
        try:
            values = clean_entry(row, prefix=f"{key}.")
        except InvalidInput as error:
            for field, messages in error.errors.items():
                for message in messages:
                    problems.add(field, label(key) + str(message) if label else str(message))
            continue
        if values["ref"] in seen:
            message = _l("This ref is given twice.")
            problems.add(f"{key}.ref", label(key) + str(message) if label else str(message))
            continue
        seen.add(values["ref"])
        cleaned.append(values)
    if len(cleaned) > MAX_ENTRIES:
        problems.add("body", str(_l("A brand keeps at most %(count)d entries.", count=MAX_ENTRIES)))
    problems.raise_any()
    return cleaned


# The CSV file: ref, lang, question, answer, tags (separated by `;`), UTF-8 with or without a byte order mark.

def read_csv(content: bytes) -> list[tuple[str, dict[str, str]]]:
    """The file's rows with their line numbers; its cells separated by `;` (as the export writes them) or `,`
    (as a spreadsheet set to English saves them)."""
    if len(content) > CSV_MAX_BYTES:
        raise InvalidInput(_l("The file is too large: at most %(count)d MB.", count=CSV_MAX_BYTES // 2 ** 20), "file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_l("Save the file as CSV in UTF-8 (the spreadsheet's \"CSV UTF-8\")."), "file") from None
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        missing = [column for column in CSV_COLUMNS[:4] if column not in header]
        if missing:
            raise InvalidInput(_l("The first line must name the columns ref, lang, question, answer and tags "
                                  "(missing: %(missing)s).", missing=", ".join(missing)), "file")
        rows = []
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                cells += [""] * (len(header) - len(cells))
                rows.append((str(line), {column: _undefused(cells[at]) for at, column in enumerate(header)
                                         if column in CSV_COLUMNS}))
            line = reader.line_num + 1
            if len(rows) > MAX_ENTRIES:
                raise InvalidInput(_l("A brand keeps at most %(count)d entries.", count=MAX_ENTRIES), "file")
    except csv.Error as error:
        raise InvalidInput(_l("The file is not a CSV file the app can read (line %(line)d: %(error)s).",
                              line=reader.line_num, error=str(error)), "file") from None
    return rows


def _undefused(cell: str) -> str:
    """A cell as the brand wrote it: the export's apostrophe before what a spreadsheet would run (=, +, -, @)
    taken off again."""
    if cell.startswith("'") and cell[1:].startswith(spreadsheets.FORMULA_STARTS):
        return cell[1:]
    return cell


# The bot's settings.

def _threshold(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= 1:
        raise InvalidInput(_l("Give a confidence from 0 to 1, such as 0.6."), field)
    return float(value)


def _whole(low: int, high: int, message) -> Callable[[object, str], int]:
    def clean(value: object, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(message, field)
        return value

    return clean


def clean_synonyms(value: object, field: str = "synonyms") -> str:
    """One group of words that mean the same per line ("livraison, expédition, envoi"), trimmed, blank lines
    dropped; at most SYNONYM_LINES lines of SYNONYM_LINE_LENGTH characters."""
    if not isinstance(value, str):
        raise InvalidInput(_l("Write one group of synonyms per line."), field)
    lines = [" ".join(line.split()) for line in value.splitlines() if line.strip()]
    if len(lines) > SYNONYM_LINES or any(len(line) > SYNONYM_LINE_LENGTH for line in lines):
        raise InvalidInput(_l("Use at most %(lines)d lines of %(length)d characters.", lines=SYNONYM_LINES,
                              length=SYNONYM_LINE_LENGTH), field)
    return "\n".join(lines)


SETTINGS_CLEANERS: dict[str, Callable[[object, str], object]] = {
    "bot_enabled": _boolean,
    "threshold": _threshold,
    "resolve_after_minutes": _whole(*RESOLVE_MINUTES, _l("Give a number of minutes from 1 to 1440.")),
    "credit_cents": _whole(*CREDIT_CENTS, _l("Give an amount in cents from 0 to 10000.")),
    "synonyms": clean_synonyms,
}


def clean_settings(changes: Mapping[str, object]) -> dict[str, object]:
    """The settings given, checked; every refusal at once, each named by its field."""
    problems = FieldProblems()
    cleaned = {}
    for field, clean in SETTINGS_CLEANERS.items():
        if field in changes:
            value = problems.check(lambda clean=clean, field=field: clean(changes[field], field))
            if value is not None:
                cleaned[field] = value
    problems.raise_any()
    return cleaned
