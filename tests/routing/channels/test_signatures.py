"""X-Hub-Signature-256: made as Meta makes it, checked over the raw body in constant time."""

from __future__ import annotations

import hmac

import pytest

from marketplace.routing.channels import signatures
from marketplace.routing.channels.signatures import sign, verify_signature

SECRET = "app-secret"
BODY = b'{"object":"page"}'
# The same HMAC computed by openssl: printf '{"object":"page"}' | openssl dgst -sha256 -hmac app-secret
KNOWN = "sha256=ae958d6f00b134dd32b95a9a76bedaaeb068c0949769358355023f7d1a0c580b"


def test_it_signs_as_meta_does():
    assert sign(SECRET, BODY) == KNOWN


def test_it_accepts_the_good_signature():
    assert verify_signature(SECRET, BODY, KNOWN) is True


def test_it_accepts_an_upper_case_digest_and_surrounding_spaces():
    assert verify_signature(SECRET, BODY, "  sha256=" + KNOWN.removeprefix("sha256=").upper() + " ") is True


@pytest.mark.parametrize("header", [None, "", "sha256=", KNOWN.replace("ae95", "ae96"), KNOWN.removeprefix("sha256="),
                                    "sha1=" + KNOWN.removeprefix("sha256="), "sha256=not-hex-at-all",
                                    "sha256=é" + KNOWN[8:], KNOWN + "00"])
def test_it_refuses_a_missing_or_bad_header(header):
    assert verify_signature(SECRET, BODY, header) is False


def test_it_refuses_the_signature_of_another_secret():
    assert verify_signature("another-secret", BODY, KNOWN) is False


def test_it_refuses_a_tampered_body():
    assert verify_signature(SECRET, BODY.replace(b"page", b"pagf"), KNOWN) is False
    assert verify_signature(SECRET, BODY + b" ", KNOWN) is False


@pytest.mark.parametrize("secret", [None, ""])
def test_without_a_secret_nothing_verifies(secret):
    assert verify_signature(secret, BODY, KNOWN) is False
    assert verify_signature(secret, BODY, sign("x", BODY).replace("x", "")) is False


def test_it_signs_nothing_without_a_secret():
    with pytest.raises(ValueError):
        sign("", BODY)


def test_the_comparison_is_constant_time(monkeypatch):
    compared = []
    constant_time = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    assert verify_signature(SECRET, BODY, KNOWN) is True
    assert verify_signature(SECRET, BODY, KNOWN.replace("ae95", "0000")) is False
    assert [a for a, _ in compared] == [KNOWN.encode(), KNOWN.encode()]
