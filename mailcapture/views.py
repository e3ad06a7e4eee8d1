"""E-mail capture's page for admins: the mailbox's state, and every message read from it with
what became of it (the skipped ones with their reason)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mailcapture import selectors
from mailcapture.models import CapturedMail
from teams import permissions

PAGE_SIZE = 50


def captured_mail(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_captured_mail(request.user):
        raise PermissionDenied
    state = request.GET.get("state", "")
    if state not in CapturedMail.State.values:
        state = ""
    page = Paginator(selectors.captured_mail_list(state=state), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.captured_mail_counts()
    context = {
        "page": page,
        "state": state,
        "states": [(value, label, counts[value]) for value, label in CapturedMail.State.choices],
        "not_logged": sum(counts[value] for value in selectors.NOT_LOGGED),
        "mailboxes": selectors.mailboxes(),
        "configured": bool(settings.MAIL_CAPTURE_IMAP_URL),
        "capture_address": settings.MAIL_CAPTURE_ADDRESS,
    }
    return render(request, "mailcapture/list.html", context)
