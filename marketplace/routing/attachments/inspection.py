"""What a file is, decided from its bytes, and the copy of it that is kept.

The sender's file name and the browser's content type are never believed: a PDF starts with `%PDF-`, an
image is whatever Pillow decodes among JPEG, PNG, WebP and HEIC/HEIF (no other decoder is even tried).
Images are turned upright from their EXIF orientation, then re-encoded from their pixels alone, so no EXIF,
GPS, XMP, ICC profile or comment survives; HEIC becomes JPEG. Each image gets a JPEG thumbnail. Images with
more pixels than a phone takes are refused before they are decoded (decompression bombs).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import UnsupportedType
from marketplace.routing.models import AttachmentKind

pillow_heif.register_heif_opener()

MAX_PIXELS = 50_000_000  # a 200-megapixel phone sensor bins to 50 MP; beyond that it is no photo
THUMBNAIL_SIZE = (320, 320)
JPEG_QUALITY = 88
# Pillow's format name: (content type kept, extension, format written).
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg", "JPEG"),
    "PNG": ("image/png", "png", "PNG"),
    "WEBP": ("image/webp", "webp", "WEBP"),
    "HEIF": ("image/jpeg", "jpg", "JPEG"),  # HEIC and HEIF: most browsers cannot show them
}
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Cleaned:
    """The copy to keep, with what the chat shows of it."""

    kind: AttachmentKind
    content_type: str
    extension: str
    data: bytes
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def _refused() -> UnsupportedType:
    return UnsupportedType(_l("Send a photo (JPEG, PNG, WebP or HEIC) or a PDF."), "file")


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError, OSError,
            ValueError, SyntaxError):
        raise _refused() from None
    if image.width * image.height > MAX_PIXELS:
        raise UnsupportedType(_l("This image has too many pixels; send a smaller photo."), "file")
    return image


def detect(data: bytes) -> AttachmentKind:
    """The kind of file `data` is, from its content alone (415 naming `file` when it is none we take)."""
    if data.startswith(PDF_MAGIC):
        return AttachmentKind.PDF
    _open_image(data).close()
    return AttachmentKind.IMAGE


def _decoded(data: bytes) -> tuple[Image.Image, str]:
    image = _open_image(data)
    source_format = image.format or ""
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)  # a new image, turned as the camera was held
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refused() from None
    return upright, source_format


def _pixels_only(image: Image.Image, target: str) -> Image.Image:
    """A copy that carries pixels and nothing else, in a mode the target format writes."""
    if target == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = _flattened(image)
    elif image.mode == "P" or "transparency" in image.info or (target == "WEBP" and image.mode in ("LA", "PA")):
        image = image.convert("RGBA")
    elif image.mode not in (("RGB", "RGBA") if target == "WEBP" else ("RGB", "RGBA", "L", "LA")):
        image = image.convert("RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _flattened(image: Image.Image) -> Image.Image:
    """On white, for formats without transparency."""
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encoded(image: Image.Image, target: str) -> bytes:
    out = io.BytesIO()
    if target == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif target == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = _flattened(image) if image.mode not in ("RGB", "L") else image.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    return _encoded(small, "JPEG")


def clean(data: bytes) -> Cleaned:
    """The copy of the file to keep: a PDF as sent (scanned), an image upright and without metadata."""
    if detect(data) == AttachmentKind.PDF:
        return Cleaned(AttachmentKind.PDF, "application/pdf", "pdf", data)
    decoded, source_format = _decoded(data)
    content_type, extension, target = IMAGE_FORMATS[source_format]
    image = _pixels_only(decoded, target)
    return Cleaned(AttachmentKind.IMAGE, content_type, extension, _encoded(image, target), image.width,
                   image.height, _thumbnail(image))


def safe_filename(name: object, extension: str) -> str:
    """The sender's file name as shown to the others: letters, digits and a few signs, with the kept file's
    extension (a HEIC photo is a .jpg now); "attachment" when nothing is left."""
    text = unicodedata.normalize("NFKC", str(name or "")).rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = text.rsplit(".", 1)[0] if "." in text else text
    stem = re.sub(r"[^\w\- ()]+", "_", stem, flags=re.UNICODE).strip(" ._")[:100] or "attachment"
    return f"{stem}.{extension}"
