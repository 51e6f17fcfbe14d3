"""Keyset pagination: a page is read as the rows after (or before) the last row seen, in an
order an index serves, never by OFFSET. The hundredth page and the last one cost what the
first does: the database starts the index scan at the cursor and stops after size+1 rows.

The query string carries where to go: nothing (the first page), ``efter=<cursor>`` (the rows
after that row), ``fore=<cursor>`` (the rows before it) or ``sista=1`` (the last page, read
from the other end of the same index). A cursor is the row's ordering values joined by
``_`` (``<created_at ISO>_<uuid>``); anything unreadable is no cursor, i.e. the first page.

The ordering must end in a unique column (the tie-breaker) and run one way (all ascending or
all descending), so that one composite index serves it in both directions.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Field, Model, Q, QuerySet

AFTER, BEFORE, LAST = "efter", "fore", "sista"


@dataclass(frozen=True)
class _Key:
    name: str  # as given to order_by, without the sign
    field: Field
    descending: bool
    attribute: str  # where the row carries the value: the field's attname, or the annotation's name

    def value_of(self, row: Model) -> Any:
        return getattr(row, self.attribute)


@dataclass
class KeysetPage:
    """One page: its rows (in the list's order) and where the links lead."""

    rows: list
    next_cursor: str  # "" on the last page
    previous_cursor: str  # "" on the first page
    has_next: bool
    has_previous: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def _keys(model: type[Model], ordering: Sequence[str], annotations: Mapping[str, Any] | None = None) -> list[_Key]:
    """The ordering's keys: the model's own fields, or the queryset's annotations (a value
    read from a related row, e.g. a queue of tasks ordered by their application's amount)."""
    keys = []
    for item in ordering:
        name = item.removeprefix("-")
        if annotations and name in annotations:
            field, attribute = annotations[name].output_field, name
        else:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
            attribute = getattr(field, "attname", name)
        assert isinstance(field, Field)
        keys.append(_Key(name=name, field=field, descending=item.startswith("-"), attribute=attribute))
    assert len({k.descending for k in keys}) == 1, "a keyset ordering runs one way"
    assert keys[-1].field.unique, "a keyset ordering ends in a unique column"
    return keys


def cursor_of(row: Model, ordering: Sequence[str], annotations: Mapping[str, Any] | None = None) -> str:
    return "_".join(_encode(k.value_of(row)) for k in _keys(type(row), ordering, annotations))


def _encode(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _decode(keys: list[_Key], cursor: str) -> list[Any] | None:
    parts = cursor.split("_")
    if len(parts) != len(keys):
        return None
    values = []
    for key, part in zip(keys, parts, strict=True):
        try:
            value = key.field.to_python(part)
        except (ValidationError, ValueError, TypeError):
            return None
        if value is None or (isinstance(value, datetime) and value.tzinfo is None):
            return None  # a cursor we wrote always carries its UTC offset
        values.append(value)
    return values


def _beyond(keys: list[_Key], values: list[Any], *, forward: bool) -> Q:
    """Rows strictly past `values` in the ordering (forward) or before them (backward).

    (a, b) past (x, y) is written a ⋚ x OR (a = x AND b ⋚ y), plus the redundant a ⋚= x in
    front: that bound is what lets the index scan start at the cursor instead of filtering
    every row before it.
    """
    def op(key: _Key) -> str:
        return "lt" if key.descending == forward else "gt"

    condition = Q()
    for i in reversed(range(len(keys))):
        step = Q(**{f"{keys[i].name}__{op(keys[i])}": values[i]})
        condition = step if i == len(keys) - 1 else step | (Q(**{keys[i].name: values[i]}) & condition)
    return Q(**{f"{keys[0].name}__{op(keys[0])}e": values[0]}) & condition


def _reversed(ordering: Sequence[str]) -> list[str]:
    return [item[1:] if item.startswith("-") else f"-{item}" for item in ordering]


def _windows(queryset: QuerySet, order: Sequence[str], count: int, any_of: Sequence[Q] | None) -> QuerySet | None:
    """The ids of the first `count` rows of `queryset` in `order` for each of `any_of`, as
    one UNION; None where a plain filter does (no conditions, one, or SQLite).

    With several conditions (a search over three columns of three tables), one OR across
    them can use none of their indexes: the database either reads every match to sort it
    or walks the whole list testing each row. Instead each condition takes its own first
    `count` rows, by whichever plan suits it (its own index when it is rare, the list's
    index when it is common), and the page is the first `count` of their union: a handful
    of ids. SQLite (the quick start) cannot slice inside a UNION and gets the plain OR.
    """
    if not any_of or len(any_of) == 1 or not connections[queryset.db].features.supports_slicing_ordering_in_compound:
        return None
    windows = [queryset.filter(c).order_by(*order).values("pk")[:count] for c in any_of]
    return windows[0].union(*windows[1:])


def _first(queryset: QuerySet, order: Sequence[str], count: int, any_of: Sequence[Q] | None) -> QuerySet:
    """The first `count` rows of `queryset` in `order` matching any of `any_of` (all rows when None)."""
    ids = _windows(queryset, order, count, any_of)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    elif any_of:
        queryset = queryset.filter(reduce(operator.or_, any_of))
    return queryset.order_by(*order)[:count]


def keyset_page(
    queryset: QuerySet,
    *,
    ordering: Sequence[str],
    params: Mapping[str, str],
    size: int,
    any_of: Sequence[Q] | None = None,
) -> KeysetPage:
    """The page `params` asks for, in `ordering`, of the rows matching any of `any_of` (all
    rows when None): one query of LIMIT size+1, whichever page."""
    annotations = queryset.query.annotations
    keys = _keys(queryset.model, ordering, annotations)
    after = _decode(keys, params.get(AFTER, ""))
    before = _decode(keys, params.get(BEFORE, "")) if after is None else None
    last = after is None and before is None and params.get(LAST) == "1"
    if after is not None or not (before is not None or last):
        if after is not None:
            queryset = queryset.filter(_beyond(keys, after, forward=True))
        fetched = list(_first(queryset, ordering, size + 1, any_of))
        shown = fetched[:size]
        has_next, has_previous = len(fetched) > size, after is not None
    else:
        if before is not None:
            queryset = queryset.filter(_beyond(keys, before, forward=False))
        fetched = list(_first(queryset, _reversed(ordering), size + 1, any_of))
        shown = fetched[:size][::-1]
        has_next, has_previous = before is not None, len(fetched) > size
    return KeysetPage(
        rows=shown,
        next_cursor=cursor_of(shown[-1], ordering, annotations) if has_next and shown else "",
        previous_cursor=cursor_of(shown[0], ordering, annotations) if has_previous and shown else "",
        has_next=has_next and bool(shown),
        has_previous=has_previous,
    )


def count_up_to(queryset: QuerySet, limit: int, *, ordering: Sequence[str], any_of: Sequence[Q] | None = None) -> int:
    """The number of rows (matching any of `any_of`), counted no further than limit + 1: a
    total shown above a list costs at most that many index entries, whether the list holds
    30 rows or 100 000. A result above `limit` means "more than `limit`".

    Counted in the list's own order, so that the database reads the first limit + 1 rows
    from the list's index (as it reads a page) instead of hashing a whole joined table.
    With `any_of`, the union of each condition's first limit + 1 is exact up to `limit`,
    and holds more than `limit` exactly when the matches do; it is counted as it is (each
    of its rows passed `queryset`'s filters in its window)."""
    return window_up_to(queryset, limit, ordering=ordering, any_of=any_of).count()


def window_up_to(queryset: QuerySet, limit: int, *, ordering: Sequence[str], any_of: Sequence[Q] | None = None) -> QuerySet:
    """The ids count_up_to counts, as a queryset: several lists counted in one statement."""
    ids = _windows(queryset, ordering, limit + 1, any_of)
    return ids if ids is not None else _first(queryset, ordering, limit + 1, any_of).values("pk")
