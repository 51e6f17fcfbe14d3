"""Long sections of a case page (the journal, the diarium, the correspondence), a page at a
time: the newest rows first come, shown oldest first within the page, with links to older
and newer pages. The journal pages by its gap-free sequence number, so a page of a case
with a thousand events costs what a page of a new case does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from django.db.models import QuerySet

PER_PAGE = 25


@dataclass(frozen=True)
class SectionPage:
    rows: list
    number: int  # 1 is the newest page
    pages: int
    total: int
    param: str  # the query parameter that names the page
    anchor: str  # the section's id, to land on it

    @property
    def has_older(self) -> bool:
        return self.number < self.pages

    @property
    def has_newer(self) -> bool:
        return self.number > 1

    @property
    def older(self) -> int:
        return self.number + 1

    @property
    def newer(self) -> int:
        return self.number - 1

    @property
    def first_shown(self) -> int:
        return max(self.total - self.number * PER_PAGE, 0) + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.rows) - 1 if self.rows else 0


def page_number(raw: str | None) -> int:
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


def _bounds(total: int, number: int, per_page: int) -> tuple[int, int, int]:
    pages = max(ceil(total / per_page), 1)
    number = min(number, pages)
    end = total - (number - 1) * per_page
    return number, pages, end


def journal_page(queryset: QuerySet, *, total: int, number: int, param: str, anchor: str,
                 per_page: int = PER_PAGE) -> SectionPage:
    """A page of a case's journal, whose events are numbered 1..`total` without gaps."""
    number, pages, end = _bounds(total, number, per_page)
    rows = list(queryset.filter(seq__gt=end - per_page, seq__lte=end).order_by("seq"))
    return SectionPage(rows, number, pages, total, param, anchor)


def rows_page(rows: Sequence | QuerySet, *, number: int, param: str, anchor: str,
              per_page: int = PER_PAGE) -> SectionPage:
    """A page of any list in its order (oldest first): one count and one slice for a queryset."""
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    number, pages, end = _bounds(total, number, per_page)
    return SectionPage(list(rows[max(end - per_page, 0):end]), number, pages, total, param, anchor)
