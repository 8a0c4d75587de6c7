"""Pytest fixtures of the fake Graph, registered for the whole suite by `tests/conftest.py`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_graph.server import FakeGraph
from tests.fake_graph.sink import WebhookSink


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    """A fresh fake Graph on loopback, with no account: add numbers and pages, point the clients at `graph_base`."""
    with FakeGraph() as fake:
        yield fake
        assert fake.internal_errors == [], "the fake Graph itself failed"


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A loopback webhook endpoint that keeps every post (200 unless told otherwise)."""
    with WebhookSink() as sink:
        yield sink
