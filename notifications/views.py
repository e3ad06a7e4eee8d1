"""Notification pages (SPEC §12): the list, opening one, marking all read, and the bell's count."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import selectors, services

PAGE_SIZE = 50
HTMX_STOP_POLLING = 286


def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(n, selectors.notification_text(n), selectors.notification_link(n)) for n in page.object_list]
    return render(request, "notifications/list.html", {"page": page, "items": items})


@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read and go where it leads."""
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark(notification=notification, by=request.user, read=True, now=timezone.now())
    return redirect(selectors.notification_link(notification))


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_read_all(user=request.user, now=timezone.now())
    if marked:
        messages.success(request, _("All notifications marked read."))
    return redirect("notifications:list")


@login_not_required
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The bell's count, fetched by the menu when a page loads and once a minute after. Once
    the session has ended it answers htmx's "stop polling" (286) with nothing, rather than a
    redirect whose login page would land inside the menu."""
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    return render(request, "notifications/_badge.html", {"unread": selectors.unread_count(user=request.user)})
