"""Pagination of the long lists (leads, touches, breaches…), in pages and in the API.

A page of a list ordered newest first, through Django's paginator, reads
`SELECT … FROM lead JOIN team … LEFT JOIN user … LEFT JOIN campaign … ORDER BY … OFFSET n
LIMIT 50`: PostgreSQL joins every lead of the team, then sorts them to keep 50 (12 ms for
5,000 leads). `DeferredJoinPaginator` reads the same rows with a
*deferred join*: the page's ids first, from the narrow table alone, which an index such as
`lead_team_created_idx (team_id, created_at DESC, id DESC)` answers in order without
reading the table; then the joins for those ids only. One statement, as before:
`… WHERE id IN (SELECT id … ORDER BY … OFFSET n LIMIT 50) ORDER BY …` (1.4 ms for the same
page; bench/README.md).
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class DeferredJoinPaginator(Paginator):
    """Django's `Paginator`, whose pages read their ids first and their rows second.

    The rows, their order and the count are those of the plain paginator, except that an
    order that does not end with the id gets it as a last key: rows that tie (two leads
    named alike, sorted by name) then keep their place from one page to the next instead
    of showing twice or never. Used only where it can be: an ordered queryset of one model
    without DISTINCT or a set operation (where the ids' subquery would select more than
    the id); anything else is sliced as Django does."""

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int):
        rows = self.object_list
        if not _deferrable(rows):
            return rows[bottom:top]
        order = list(rows.query.order_by or (rows.query.default_ordering and rows.model._meta.ordering) or [])
        if not any(key in ID_KEYS for key in order):
            rows = rows.order_by(*order, "pk")
        return rows.filter(pk__in=rows.values("pk")[bottom:top])


ID_KEYS = {"pk", "-pk", "id", "-id"}


def _deferrable(rows) -> bool:
    return (
        isinstance(rows, QuerySet)
        and rows.ordered
        and not rows.query.distinct
        and not rows.query.combinator
        and not rows.query.is_sliced
    )


class Pagination(PageNumberPagination):
    """The API's pages (`{"count", "next", "previous", "results"}`, SPEC §7), read as above."""

    django_paginator_class = DeferredJoinPaginator
