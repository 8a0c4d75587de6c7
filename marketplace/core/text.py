"""Text helpers with no dependencies."""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# C0 and C1 control characters, DEL included; tab, line feed and carriage return are text.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def slugify(text: str, max_length: int = 60) -> str:
    """Turn a name into a URL-safe slug: 'Café Noël & Co' -> 'cafe-noel-co'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def strip_control_characters(text: str) -> str:
    """Drop the control characters nobody types (NUL, escape, the C1 block); keep tab and line breaks."""
    return CONTROL_CHARACTERS.sub("", text)
