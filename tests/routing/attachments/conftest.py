"""Fixtures for attachments: files made here, a real clamd with a test signature, S3 on moto's server.

clamd reads only a signature database written here (the signature mirror is out of reach), so it starts
in a few seconds; a test that needs it fails when Debian's clamav-daemon is missing, it is never skipped.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from marketplace.routing.attachments.storage import LocalStorage, S3Storage
from tests.conftest import free_port

# A harmless string that the test database names as a virus (an .ndb signature: any offset, these bytes).
TEST_SIGNATURE = b"MARKETPLACE-CLAMAV-TEST-SIGNATURE-7f3e"
TEST_SIGNATURE_NAME = "Marketplace.Test.Signature"
SCANNER_STREAM_MAX = 2 * 1024 * 1024  # clamd's StreamMaxLength here: a bigger file is beyond its limits
BUCKET = "attachments-test"


def pdf_bytes(text: bytes = b"Invoice 42", padding: int = 0) -> bytes:
    """A small PDF (what the inspection reads of one is its header); `padding` bytes of comment make it bigger."""
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + text + b"\n"
            + b"%" + b"0" * padding + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def jpeg_bytes(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **save)
    return out.getvalue()


def _clamd_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(str(path))
            connection.sendall(b"zPING\0")
            return connection.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory) -> Iterator[str]:
    """A clamd of the test run's own, on a UNIX socket, knowing only the test signature."""
    binary = shutil.which("clamd") or "/usr/sbin/clamd"
    if not Path(binary).exists():
        pytest.fail("clamd is missing: apt-get install clamav-daemon (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "test.ndb").write_text(f"{TEST_SIGNATURE_NAME}:0:*:{TEST_SIGNATURE.hex()}\n")
    sock = folder / "clamd.sock"
    conf = folder / "clamd.conf"
    conf.write_text(f"LocalSocket {sock}\nDatabaseDirectory {folder / 'db'}\nTemporaryDirectory {folder}\n"
                    f"Foreground yes\nStreamMaxLength {SCANNER_STREAM_MAX}\nLogFile {folder / 'clamd.log'}\n")
    process = subprocess.Popen([binary, "--foreground", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _clamd_answers(sock):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "clamd.log").read_text() if (folder / "clamd.log").exists() else ""
                pytest.fail(f"clamd did not start (exit {process.poll()}):\n{log}")
            time.sleep(0.1)
        yield str(sock)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def clamd(app, clamd_socket, monkeypatch) -> str:
    """The app scans with the test clamd for this test."""
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd_socket)
    return clamd_socket


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 in server mode on loopback: the real boto3 client talks HTTP to it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # noqa: S106 - moto's


@pytest.fixture(params=["local", "s3"])
def attachment_storage(request, app, tmp_path):
    """The app's attachment storage for this test: a folder, or a fresh bucket on moto."""
    if request.param == "local":
        storage = LocalStorage(tmp_path / "attachments")
    else:
        client = s3_client(request.getfixturevalue("moto_endpoint"))
        bucket = f"{BUCKET}-{uuid.uuid4().hex}"  # never one an earlier test filled (a free port number comes again)
        client.create_bucket(Bucket=bucket)
        storage = S3Storage(bucket, client)
    previous = app.extensions.get("attachment_storage")
    app.extensions["attachment_storage"] = storage
    yield storage
    if previous is None:
        app.extensions.pop("attachment_storage", None)
    else:
        app.extensions["attachment_storage"] = previous


def stored_keys(storage) -> set[str]:
    """Every key the storage holds (thumbnails included)."""
    if isinstance(storage, LocalStorage):
        if not storage.folder.exists():
            return set()
        return {str(path.relative_to(storage.folder)) for path in storage.folder.rglob("*") if path.is_file()}
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}
