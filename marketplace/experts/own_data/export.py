"""The expert's data export: every registered section, as one JSON file and a CSV per table, in one zip."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.database import begin_read_only, end_read, unit_of_work, utcnow
from marketplace.errors import Forbidden
from marketplace.experts import services as experts
from marketplace.experts.own_data import SECTIONS, Holder

EVERYTHING = "everything.json"


@dataclass(frozen=True)
class Archive:
    filename: str
    content: bytes
    sections: tuple[str, ...]


def _plain(value: Any) -> Any:
    """A value JSON can hold: instants and days as ISO 8601 (UTC), enums by their value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return "" if value is None else value
    if isinstance(value, dict | list):
        return json.dumps(value, default=_plain, ensure_ascii=False, sort_keys=True)
    return _plain(value)


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def collect(holder: Holder) -> dict[str, Any]:
    """Every registered section of the holder's data, by name (in the order they were registered)."""
    return {name: section(holder) for name, section in current_app.extensions.get(SECTIONS, {}).items()}


def pack(data: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """The zip: everything.json (meta and every section), and one CSV per table-like section."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EVERYTHING, json.dumps({**meta, "sections": data}, default=_plain, ensure_ascii=False,
                                                separators=(",", ":")))
        for name, value in data.items():
            if isinstance(value, list):
                archive.writestr(f"{name}.csv", "\ufeff" + _csv(value))  # the BOM: spreadsheets read it as UTF-8
    return buffer.getvalue()


def export_own_data(actor: User, *, ip: str | None = None, now: dt.datetime | None = None) -> Archive:
    """Everything held about the calling expert, as a zip; audited, and as a read of their bank details when it
    holds them (their own, in full).

    The sections are read in one read-only transaction (a consistent snapshot that takes no write lock on SQLite:
    an expert with years of chats takes seconds to read and pack, and every writer would wait all that time); the
    audit entries are written after, in a short transaction of their own."""
    begin_read_only()
    try:
        profile = experts.own_profile(actor)
        if profile.is_closed:
            raise Forbidden(_l("This account is closed."))
        expert_id, user_id = profile.id, actor.id
        data = collect(Holder(profile, actor))
    finally:
        end_read()
    now = now or utcnow()
    with unit_of_work():
        if data.get("payout_details"):
            accounts.record_audit("payout_details_read", actor_id=user_id, subject_id=user_id, ip=ip,
                                  expert_id=expert_id, reason="data export")
        accounts.record_audit("expert_data_exported", actor_id=user_id, subject_id=user_id, ip=ip,
                              expert_id=expert_id)
    meta = {"expert_id": expert_id, "exported_at": now, "format": 1,
            "csv_files": sorted(f"{name}.csv" for name, value in data.items() if isinstance(value, list))}
    return Archive(f"my-expert-data-{now:%Y-%m-%d}.zip", pack(data, meta), tuple(data))
