"""Where attachments are kept, behind one interface: a local folder (the default) or S3-compatible storage.

Keys are made by the services (`<conversation>/<random>.<ext>`), never from anything a sender wrote, and a
key that is not of that shape is refused before it reaches a path or a bucket.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

KEY = re.compile(r"^[0-9]{1,20}/[A-Za-z0-9_-]{16,64}\.(jpg|png|webp|pdf)$")


class StorageError(Exception):
    """The storage could not keep, give back or delete a file."""


class NotStored(StorageError):
    """No file is kept under this key."""


def _checked(key: str) -> str:
    if not KEY.match(key):
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Delete the file; a key with no file is not an error (deletion is retried after a crash)."""


class LocalStorage:
    """Files in a folder (ATTACHMENT_FOLDER, under the instance folder by default), one sub-folder per chat."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotStored(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Objects in one bucket of S3 or a compatible store (MinIO, moto); credentials from the AWS environment."""

    def __init__(self, bucket: str, client: Any):
        self.bucket = bucket
        self.client = client

    @classmethod
    def from_settings(cls, bucket: str, endpoint_url: str | None) -> S3Storage:
        import boto3  # only where S3 is used

        return cls(bucket, boto3.client("s3", endpoint_url=endpoint_url))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=_checked(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_checked(key))
        except self.client.exceptions.NoSuchKey:
            raise NotStored(key) from None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_checked(key))


def storage() -> Storage:
    """The application's attachment storage, made once from its settings."""
    app = current_app
    if "attachment_storage" not in app.extensions:
        config = app.config
        if config["ATTACHMENT_STORAGE"] == "s3":
            app.extensions["attachment_storage"] = S3Storage.from_settings(
                config["ATTACHMENT_S3_BUCKET"], config["ATTACHMENT_S3_ENDPOINT_URL"])
        else:
            app.extensions["attachment_storage"] = LocalStorage(config["ATTACHMENT_FOLDER"])
    return app.extensions["attachment_storage"]
