"""Pages of a long list: which slice this request asks for, and the links to its neighbours."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    total: int = 0

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def of(self, total: int) -> Paging:
        return Paging(self.page, self.per_page, total)


def requested(per_page: int) -> Paging:
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1
    return Paging(page, per_page)
