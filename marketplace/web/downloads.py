"""Files people download: an attachment with its name, kept by no shared cache (they hold private data)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context


def attachment(content: str | bytes | Iterator[str], filename: str, mimetype: str) -> Response:
    """The file as an attachment named `filename`; an iterator is streamed as it is produced (text is UTF-8)."""
    body = stream_with_context(content) if isinstance(content, Iterator) else content
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})
