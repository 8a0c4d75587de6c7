"""clamd's INSTREAM, spoken to a real daemon that knows only the test signature; any doubt refuses."""

from __future__ import annotations

import pytest

from marketplace.routing.attachments.scanning import Scanner, verdict
from tests.routing.attachments.conftest import SCANNER_STREAM_MAX, TEST_SIGNATURE, TEST_SIGNATURE_NAME, pdf_bytes


def test_a_clean_file_is_clean(clamd_socket):
    assert Scanner(socket_path=clamd_socket).scan(pdf_bytes()).clean


def test_the_test_signature_is_found_and_named(clamd_socket):
    found = Scanner(socket_path=clamd_socket).scan(pdf_bytes(TEST_SIGNATURE))
    assert (found.clean, found.reason) == (False, "infected")
    assert found.detail.startswith(TEST_SIGNATURE_NAME)


def test_the_signature_is_found_across_chunk_boundaries(clamd_socket):
    data = b"%PDF-1.4\n" + b"x" * (64 * 1024 - 20) + TEST_SIGNATURE + b"\n"
    assert Scanner(socket_path=clamd_socket).scan(data).reason == "infected"


def test_a_file_beyond_the_daemons_stream_limit_is_refused_not_clean(clamd_socket):
    found = Scanner(socket_path=clamd_socket).scan(pdf_bytes(padding=SCANNER_STREAM_MAX + 1))
    assert (found.clean, found.reason) == (False, "too_large")


def test_an_unreachable_daemon_refuses(tmp_path):
    found = Scanner(socket_path=str(tmp_path / "none.sock"), timeout=1).scan(b"%PDF-1.4")
    assert (found.clean, found.reason) == (False, "error")


@pytest.mark.parametrize(("answer", "reason"), [
    ("stream: OK", "clean"),
    ("stream: Eicar-Test-Signature FOUND", "infected"),
    ("INSTREAM size limit exceeded. ERROR", "too_large"),
    ("stream: Can't allocate memory ERROR", "error"),
    ("", "error"),
    ("stream: OK but not quite", "error"),
])
def test_only_ok_is_clean(answer, reason):
    assert verdict(answer).reason == reason
    assert verdict(answer).clean is (reason == "clean")


def test_the_settings_pick_a_socket_or_an_address():
    assert Scanner.from_settings("", "", 5) is None
    assert Scanner.from_settings("/run/clamd.sock", "", 5).socket_path == "/run/clamd.sock"
    assert Scanner.from_settings("", "clamav.internal:3310", 5).address == ("clamav.internal", 3310)
