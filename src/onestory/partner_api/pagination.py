"""Pages of a list reached through ``access.scope``, for ninja's limit/offset pagination.

ninja slices what a list endpoint returns; given a list of everything it would audit every
person on every page. ``ScopedPage`` hands ninja a sequence that asks the scope for just
the requested slice, so the audit event names exactly the people the page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination


class ScopedPage[T](Sequence[T]):
    def __init__(self, fetch: Callable[[int, int], list[T]], count: Callable[[], int]) -> None:
        self._fetch = fetch
        self._count = count

    def __len__(self) -> int:
        return self._count()

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("a scoped page is read a slice at a time")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + 1
        return self._fetch(start, max(0, stop - start))


MAX_OFFSET = 1_000_000  # well past any real list; a larger offset is refused (422)


class Pages(LimitOffsetPagination):
    """ninja's limit/offset pagination (``limit`` 1-200, default 50), with ``offset``
    bounded: a database refuses an offset beyond its integers (found by schemathesis)."""

    class Input(Schema):
        limit: int = Field(
            int(settings.NINJA_PAGINATION_PER_PAGE),
            ge=1,
            le=int(settings.NINJA_PAGINATION_MAX_LIMIT),
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
