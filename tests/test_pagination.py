"""Pages read with a deferred join hold exactly the rows of Django's own pagination, in
the same order, in one statement; rows that tie keep their place across pages; and on
PostgreSQL the ids of a team's page come from the list's index, in order, without a sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead
from salesmarketing.pagination import DeferredJoinPaginator
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(users):
    """23 leads of one team: names that tie in threes, times that tie in pairs."""
    team = users["sales_rep"].team
    start = timezone.now() - timedelta(days=30)
    for n in range(23):
        LeadFactory(team=team, name=f"Lead {n // 3}", created_at=start + timedelta(hours=n // 2))
    return Lead.objects.filter(team=team).select_related("team", "owner", "campaign")


def _pages(paginator) -> list[list[int]]:
    return [[lead.pk for lead in paginator.page(n).object_list] for n in paginator.page_range]


def test_each_page_holds_the_rows_of_djangos_paginator_in_the_same_order(leads):
    for ordering in (["-created_at", "-id"], ["created_at", "id"], ["name", "pk"]):
        rows = leads.order_by(*ordering)
        assert _pages(DeferredJoinPaginator(rows, 5)) == _pages(Paginator(rows, 5)), ordering
        assert DeferredJoinPaginator(rows, 5).count == 23


def test_rows_that_tie_appear_once_across_the_pages(leads):
    # Ordered by name alone, three leads share each name: the id settles their order.
    pages = _pages(DeferredJoinPaginator(leads.order_by("name"), 4))
    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(leads.values_list("pk", flat=True)) and len(seen) == 23
    by_pk = {lead.pk: lead.name for lead in leads}
    assert [(by_pk[pk], pk) for pk in seen] == sorted((by_pk[pk], pk) for pk in seen)


def test_a_page_is_one_statement_that_reads_its_ids_first(leads):
    page = DeferredJoinPaginator(leads.order_by("-created_at", "-id"), 5).page(2)
    with CaptureQueriesContext(connection) as queries:
        rows = list(page.object_list)
    assert len(rows) == 5 and len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert " IN (SELECT " in sql and sql.count("LIMIT") == 1  # the limit is inside the subquery
    assert [r.team.name for r in rows] == [leads[0].team.name] * 5  # the joins came along


def test_what_cannot_be_deferred_is_sliced_as_django_does(leads):
    distinct = leads.order_by("name").distinct()
    assert _pages(DeferredJoinPaginator(distinct, 5)) == _pages(Paginator(distinct, 5))
    assert _pages(DeferredJoinPaginator(list(leads), 5)) == _pages(Paginator(list(leads), 5))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_on_postgresql_a_teams_page_takes_its_ids_from_the_index_in_order(leads, users):
    team = users["sales_rep"].team
    rows = Lead.objects.filter(team=team).select_related("team", "owner").order_by("-created_at", "-id")
    query = DeferredJoinPaginator(rows, 5).page(3).object_list
    with connection.cursor() as cursor:
        # Tiny tables: forbid what a planner would choose for 23 rows, so that only an
        # index that gives the order lets it avoid sorting the team's leads.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    inner = plan[plan.index("Limit") :]  # the ids' subquery
    assert "lead_team_created_idx" in inner, plan
    assert "Sort" not in inner.split("->  Index", 1)[0], plan
