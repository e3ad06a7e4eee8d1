"""Streamed CSV exports, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP: prefix a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(*, rows: QuerySet, columns: list[tuple[str, str]], chunk_size: int = 2000) -> Iterator[str]:
    """CSV lines for `rows`: a header of the column titles, then one line per row read in
    chunks (`columns` are (title, ORM path) pairs), so 100,000 rows never sit in memory.
    Starts with a BOM so that Excel opens the UTF-8 correctly; text cells are formula-safe."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([title for title, _ in columns])
    for row in rows.values_list(*[path for _, path in columns]).iterator(chunk_size=chunk_size):
        yield writer.writerow([_cell(value) for value in row])


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else csv_safe(value)
