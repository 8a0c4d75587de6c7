"""Reading the reports back: CSV tables, file names, times as written, the items of a batch."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from marketplace.experts.models import ExpertProfile
from marketplace.payouts.models import PayoutBatch, PayoutItem
from marketplace.shared import spreadsheets

UTC = dt.UTC


def item_of(session, expert: ExpertProfile, batch: PayoutBatch | None = None) -> PayoutItem:
    query = sa.select(PayoutItem).where(PayoutItem.expert_id == expert.id)
    if batch is not None:
        query = query.where(PayoutItem.batch_id == batch.id)
    return session.scalar(query.execution_options(populate_existing=True))


def iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(response) -> list[list[str]]:
    """The CSV body as rows of cells, after checking it is a streamed UTF-8 CSV attachment."""
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # as every export: a byte order mark for French spreadsheets
    return spreadsheets.read(text)


def filename(response) -> str:
    return response.headers["Content-Disposition"].split('filename="', 1)[1].rstrip('"')

