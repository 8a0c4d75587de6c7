"""The type comes from the content; images are kept upright and without metadata, with a thumbnail."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.errors import UnsupportedType
from marketplace.routing.attachments import inspection
from marketplace.routing.models import AttachmentKind
from tests.routing.attachments.conftest import jpeg_bytes, pdf_bytes

ORIENTATION, GPS_INFO, MAKE = 0x0112, 0x8825, 0x010F
RED, BLUE = (220, 20, 20), (20, 20, 220)


def phone_photo(orientation: int = 6) -> bytes:
    """A 60x40 JPEG as a phone held upright writes it: pixels sideways, EXIF orientation 6 and a GPS position.

    Its top-left corner is red, the rest blue, so where the corner ends up shows how it was turned.
    """
    image = Image.new("RGB", (60, 40), BLUE)
    image.paste(Image.new("RGB", (20, 20), RED), (0, 0))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneMaker"
    exif[GPS_INFO] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return jpeg_bytes(image, exif=exif.tobytes())


def _near(pixel, colour) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def test_the_phone_photo_really_carries_gps_and_an_orientation():
    exif = Image.open(io.BytesIO(phone_photo())).getexif()
    assert exif[ORIENTATION] == 6
    assert exif.get_ifd(GPS_INFO)[1] == "N"


def test_a_phone_photo_arrives_upright_and_without_gps_or_any_metadata():
    cleaned = inspection.clean(phone_photo())

    assert (cleaned.kind, cleaned.content_type, cleaned.extension) == (AttachmentKind.IMAGE, "image/jpeg", "jpg")
    kept = Image.open(io.BytesIO(cleaned.data))
    assert kept.format == "JPEG"
    assert (kept.width, kept.height) == (cleaned.width, cleaned.height) == (40, 60)  # turned upright
    # The red corner, top-left in the sensor's pixels, is top-right once turned as the phone was held.
    rgb = kept.convert("RGB")
    assert _near(rgb.getpixel((35, 5)), RED)
    assert _near(rgb.getpixel((5, 5)), BLUE)
    assert _near(rgb.getpixel((35, 55)), BLUE)
    assert len(kept.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(kept.info)
    assert b"Exif" not in cleaned.data and b"PhoneMaker" not in cleaned.data


def test_an_image_gets_a_small_jpeg_thumbnail():
    big = Image.new("RGB", (1600, 1200), BLUE)
    cleaned = inspection.clean(jpeg_bytes(big))
    thumbnail = Image.open(io.BytesIO(cleaned.thumbnail))
    assert thumbnail.format == "JPEG"
    assert (thumbnail.width, thumbnail.height) == (320, 240)


def test_a_heic_photo_becomes_a_jpeg():
    image = Image.new("RGB", (64, 48), RED)
    out = io.BytesIO()
    image.save(out, "HEIF", quality=90)
    heic = out.getvalue()
    assert heic[4:12] in (b"ftypheic", b"ftypmif1", b"ftypheix")

    cleaned = inspection.clean(heic)

    assert (cleaned.content_type, cleaned.extension) == ("image/jpeg", "jpg")
    kept = Image.open(io.BytesIO(cleaned.data))
    assert kept.format == "JPEG" and kept.size == (64, 48)
    assert _near(kept.convert("RGB").getpixel((10, 10)), RED)


def test_a_png_keeps_its_transparency_but_loses_its_text_chunks():
    from PIL import PngImagePlugin

    image = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret place")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)

    cleaned = inspection.clean(out.getvalue())

    kept = Image.open(io.BytesIO(cleaned.data))
    assert (cleaned.content_type, kept.format, kept.mode) == ("image/png", "PNG", "RGBA")
    assert kept.getpixel((3, 3))[3] == 0
    assert b"secret place" not in cleaned.data


def test_a_webp_stays_a_webp():
    out = io.BytesIO()
    Image.new("RGB", (20, 10), RED).save(out, "WEBP")
    cleaned = inspection.clean(out.getvalue())
    assert (cleaned.content_type, cleaned.extension, cleaned.width, cleaned.height) == ("image/webp", "webp", 20, 10)


def test_a_pdf_is_known_by_its_header_and_kept_as_sent():
    data = pdf_bytes()
    cleaned = inspection.clean(data)
    assert (cleaned.kind, cleaned.content_type, cleaned.data, cleaned.thumbnail) == (
        AttachmentKind.PDF, "application/pdf", data, None)


@pytest.mark.parametrize("data", [
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200,  # a Windows program, whatever its name says
    b"<html><script>alert(1)</script></html>",  # HTML a browser would call image/png
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # an image, but not one we take
    b"\xff\xd8\xff\xe0 not really a jpeg",
    b"",
], ids=["exe", "html", "gif", "broken-jpeg", "empty"])
def test_anything_else_is_refused_naming_the_file(data):
    with pytest.raises(UnsupportedType) as refused:
        inspection.clean(data)
    assert refused.value.field == "file" and refused.value.status == 415


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")  # 60 MP of one bit: a few kilobytes
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UnsupportedType) as refused:
        inspection.clean(out.getvalue())
    assert "pixels" in str(refused.value.message)


@pytest.mark.parametrize(("name", "extension", "shown"), [
    ("IMG_0042.HEIC", "jpg", "IMG_0042.jpg"),
    ("../../etc/passwd", "pdf", "passwd.pdf"),
    ('facture "mars".pdf', "pdf", "facture _mars.pdf"),
    ("", "png", "attachment.png"),
    (None, "pdf", "attachment.pdf"),
])
def test_the_shown_name_is_the_senders_cleaned_with_the_kept_extension(name, extension, shown):
    assert inspection.safe_filename(name, extension) == shown
