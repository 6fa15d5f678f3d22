"""Paging that does not count a whole large table on every page view."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil

from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.utils.functional import cached_property

from .. import selectors

EXACT_BELOW = 10_000
# A list pages this deep at most: a page further on is read by skipping the rows before
# it, which costs more the deeper it is; the search and the filters find the others.
MAX_PAGES = 100


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered list of a large table is counted by the planner's
    estimate (pg_class.reltuples) instead of COUNT(*); filtered lists count exactly.

    A list that only leaves a few rows of the table out (the records without proposed
    changes, say) is set `left_out`, which counts those few: the list is then counted
    as the estimate less them, not by a COUNT(*) that would read the whole table.
    """

    left_out: Callable[[], int] | None = None
    max_pages = MAX_PAGES
    # A list counted exactly stops counting past the rows its pages can show: a filter
    # that matches 100,000 records costs what one matching 10,000 does, and the list
    # says "more than 10,000".
    capped = False

    @cached_property
    def all_pages(self) -> int:
        """How many pages the whole list would take."""
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return ceil(max(1, self.count - self.orphans) / self.per_page)

    @cached_property
    def num_pages(self) -> int:
        """The pages one may open: at most `max_pages`, so that the deepest page costs
        the same in a list of 100,000 rows as in one of 1,000,000."""
        return min(self.all_pages, self.max_pages)

    @property
    def bounded(self) -> bool:
        # `count` first: counting is what finds a capped list.
        return self.all_pages > self.max_pages or self.capped

    @property
    def max_rows(self) -> int:
        return self.max_pages * self.per_page

    def validate_number(self, number):
        """A page past the last one that may be opened shows that last one."""
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.bounded and int(number) > self.num_pages:
                return self.num_pages
            raise

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[getattr(queryset, "db", "default")]
        if connection.vendor == "postgresql" and (
            not queryset.query.where or self.left_out is not None
        ):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= EXACT_BELOW:
                if self.left_out is None:
                    return int(row[0])
                return max(int(row[0]) - self.left_out(), 0)
        cap = self.max_rows
        # Without the list's order: which rows are counted does not matter.
        counted = queryset.order_by()[: cap + 1].count()
        self.capped = counted > cap
        return min(counted, cap)


class CappedCountPaginator(Paginator):
    """Counts exactly up to WORK_ITEM_COUNT_CAP rows and stops there, so a queue of 100,000 items
    pages as fast as one of 10,000; `capped` says the list is longer (shown as
    "more than 10,000")."""

    capped = False

    @cached_property
    def count(self) -> int:
        cap = selectors.WORK_ITEM_COUNT_CAP
        # Without the list's order: which rows are counted does not matter.
        counted = self.object_list.order_by()[: cap + 1].count()
        self.capped = counted > cap
        return min(counted, cap)
