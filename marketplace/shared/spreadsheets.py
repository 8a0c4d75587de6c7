"""CSV files for spreadsheets, one way for every export.

`;` between cells and a UTF-8 byte order mark first, so a spreadsheet set to French opens them with their
accents; lines end in CRLF. Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
or a carriage return) gets a leading apostrophe; numbers are left alone, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def defuse(value: object) -> object:
    """The cell as written: text that looks like a formula is prefixed with an apostrophe (a number written
    as text, such as "-12.50", is left a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def stream(header: Sequence[str], chunks: Iterable[Iterable[Sequence[object]]]) -> Iterator[str]:
    """The file piece by piece: the byte order mark and header first, then one piece per chunk of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([defuse(value) for value in row] for row in rows)
        yield buffer.getvalue()


def text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole file at once (small files)."""
    return "".join(stream(header, [rows]))


def read(content: str) -> list[list[str]]:
    """Rows of a file written here (for tests and imports): the byte order mark dropped."""
    return list(csv.reader(io.StringIO(content.removeprefix(BOM), newline=""), delimiter=";"))
