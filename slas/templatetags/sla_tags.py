"""Display helpers for SLAs."""

from __future__ import annotations

from datetime import datetime

from django import template

from slas.badges import DueBadge, due_badge

register = template.Library()


@register.simple_tag(name="due_badge")
def due_badge_tag(
    due: datetime | None, warn: datetime | None, now: datetime, kind: str | None = None
) -> DueBadge | None:
    """`{% due_badge due warn now kind as badge %}`: slas.badges.due_badge."""
    return due_badge(due, warn, now, kind=kind)
