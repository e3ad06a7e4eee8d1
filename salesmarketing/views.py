"""Views that belong to no app."""

from __future__ import annotations

import sys

from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import server_error

# What a lost database connection raises (refused, reset, closed). Other database errors,
# such as an IntegrityError, are bugs and stay 500s.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER = "30"


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_DOWN:
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, rendered without touching the database (no context processors):
    JSON for the API, the inbound hooks and any post of JSON (a lead form posted by a script),
    a page for browsers."""
    if request.path_info.startswith(("/api/", "/hooks/")) or request.content_type == "application/json":
        response: HttpResponse = JsonResponse(
            {"detail": "The database is unavailable; try again shortly.", "code": "database_unavailable"}, status=503
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = RETRY_AFTER
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    """A lost database is a temporary outage (503), anything else a real error (500).

    Django calls this inside its exception handling, so the exception is still current.
    """
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_unavailable(request)
    return server_error(request)
