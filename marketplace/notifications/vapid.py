"""The VAPID key that signs our Web Push requests: from the settings, or created once per instance folder."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from marketplace.config import ConfigError

KEY_FILE_NAME = "vapid_private_key.pem"


def load_vapid(configured: str, instance_path: Path) -> Vapid:
    """Use VAPID_PRIVATE_KEY when set, else the instance folder's key file, created on first start."""
    key = parse_private_key(configured) if configured else _load_or_create(instance_path / KEY_FILE_NAME)
    return Vapid(key)


def public_key_of(vapid: Vapid) -> str:
    """The public key as browsers want it for `applicationServerKey`: the uncompressed point, base64url."""
    point = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """Read a P-256 private key given as PEM, or as the raw 32-byte scalar (or DER) in base64url."""
    text = text.strip().replace("\\n", "\n")  # one-line environment values often carry escaped newlines
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError("VAPID_PRIVATE_KEY must be an EC P-256 private key: PEM, or base64url raw or DER") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError("VAPID_PRIVATE_KEY must be an EC key on the P-256 curve")
    return key


def _load_or_create(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        _create(path)
    return parse_private_key(path.read_text())


def _create(path: Path) -> None:
    """Write a new key whole under a private name, then link it into place.

    The link fails when the file exists (like O_EXCL), so when two processes start together the
    first one's key wins and the other reads it; nobody can read a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: its key is the one we keep
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
