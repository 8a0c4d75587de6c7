"""One page of a longer list, as the services answer it and the pages and the API show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ResultPage(Generic[T]):
    rows: list[T]
    total: int  # how many match, on every page
    page: int  # from 1
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
