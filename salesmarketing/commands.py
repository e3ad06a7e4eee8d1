"""Helpers shared by the management commands."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def parse_as_of(value: str | None) -> datetime:
    """`--as-of ISO-TIME` as an aware datetime (a time without offset is in TIME_ZONE); now if absent."""
    if not value:
        return timezone.now()
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError("--as-of takes an ISO 8601 time, e.g. 2026-08-06T09:00:00+07:00")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
