"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from teams import permissions


def navigation(request: HttpRequest) -> dict:
    """`nav`: the sections the signed-in user's role may open."""
    return {"nav": permissions.navigation_for(getattr(request, "user", None))}
