"""One storage interface: a folder or S3 (moto's server), chosen by the settings."""

from __future__ import annotations

import pytest

from marketplace.routing.attachments.storage import LocalStorage, NotStored, S3Storage, storage
from tests.conftest import make_app

KEY = "42/AbCdEfGhIjKlMnOpQrStUv.pdf"


def test_a_file_is_kept_given_back_and_deleted(attachment_storage):
    attachment_storage.put(KEY, b"%PDF-1.4 data", "application/pdf")
    assert attachment_storage.get(KEY) == b"%PDF-1.4 data"
    attachment_storage.delete(KEY)
    with pytest.raises(NotStored):
        attachment_storage.get(KEY)
    attachment_storage.delete(KEY)  # deleting what is gone is no error: a retried purge goes through


@pytest.mark.parametrize("key", ["../etc/passwd", "42/../../x.pdf", "42/short.pdf", "/abs/AbCdEfGhIjKlMnOpQr.pdf",
                                 "42/AbCdEfGhIjKlMnOpQrStUv.exe"])
def test_a_key_not_made_by_the_services_is_refused(attachment_storage, key):
    with pytest.raises(ValueError, match="not an attachment key"):
        attachment_storage.put(key, b"x", "application/pdf")


def test_the_local_folder_is_under_the_instance_folder_by_default(app):
    assert app.config["ATTACHMENT_FOLDER"].endswith("attachments")
    assert app.config["ATTACHMENT_STORAGE"] == "local"


def test_s3_storage_is_built_from_the_settings_and_the_aws_environment(tmp_path, moto_endpoint, monkeypatch):
    from tests.routing.attachments.conftest import s3_client

    s3_client(moto_endpoint).create_bucket(Bucket="from-settings")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    application = make_app(f"sqlite:///{tmp_path / 'x.db'}", ATTACHMENT_STORAGE="s3",
                           ATTACHMENT_S3_BUCKET="from-settings", ATTACHMENT_S3_ENDPOINT_URL=moto_endpoint)
    with application.app_context():
        files = storage()
        assert isinstance(files, S3Storage) and files.bucket == "from-settings"
        files.put(KEY, b"%PDF-1.4", "application/pdf")
        assert s3_client(moto_endpoint).get_object(Bucket="from-settings", Key=KEY)["Body"].read() == b"%PDF-1.4"


def test_local_storage_writes_no_half_files(tmp_path):
    files = LocalStorage(tmp_path)
    files.put(KEY, b"%PDF-1.4", "application/pdf")
    assert sorted(path.name for path in (tmp_path / "42").iterdir()) == ["AbCdEfGhIjKlMnOpQrStUv.pdf"]
