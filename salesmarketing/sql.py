"""INSERT … SELECT through the ORM: rows written by the database from a queryset, without a
Python object per row."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, models


def insert_select(model: type[models.Model], rows: models.QuerySet, columns: dict[str, Any]) -> int:
    """Insert into `model`'s table one row per row of `rows`, each column filled by its
    expression on that row (every column but the primary key, in the table's terms: `F()`s of
    `rows`' model, `Value`s). `ON CONFLICT DO NOTHING`: a row that a unique constraint
    already holds is skipped, so a repeated or concurrent call inserts nothing twice.
    One statement; returns the number of rows inserted."""
    # Annotations may not take the names of the source's own fields: each column as "c_<column>".
    annotated = rows.order_by().annotate(**{f"c_{column}": value for column, value in columns.items()})
    try:
        select, params = annotated.values(*(f"c_{column}" for column in columns)).query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, such as `pk__in=[]`
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    if connection.vendor == "sqlite":
        # SQLite reads the ON of ON CONFLICT as a join's after a SELECT without a WHERE of its
        # own (its documented parsing ambiguity); PostgreSQL needs the bare SELECT, whose
        # untyped NULLs take the columns' types. `select` is the ORM's own SQL, its values apart.
        select = f"SELECT * FROM ({select}) AS source WHERE true"  # noqa: S608  # nosec B608
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) {select} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)
