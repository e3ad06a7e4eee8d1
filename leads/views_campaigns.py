"""Campaign pages: the list, a campaign with the leads it brought, and its form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from leads import selectors, services
from leads.forms import CampaignForm
from teams import permissions

PAGE_SIZE = 50


def campaign_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    campaigns = selectors.campaign_list(search=search).order_by("-start_date", "name")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "leads/campaign_list.html",
        {"page": page, "search": search, "can_create": permissions.can_manage_campaign(request.user)},
    )


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(selectors.campaign_list(), pk=pk)
    leads = selectors.lead_list(user=request.user).filter(campaign=campaign)
    context = {
        "campaign": campaign,
        "by_status": selectors.campaign_status_counts(campaign=campaign),
        "recent": leads[:10],
        "can_edit": permissions.can_manage_campaign(request.user, campaign),
    }
    return render(request, "leads/campaign_detail.html", context)


def campaign_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    campaign = get_object_or_404(selectors.campaign_list(), pk=pk) if pk else None
    if not permissions.can_manage_campaign(request.user, campaign):
        raise PermissionDenied
    teams = selectors.campaign_teams(user=request.user)
    form = CampaignForm(request.POST or None, instance=campaign, teams=teams)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if campaign:
                campaign = services.campaign_update(campaign=campaign, by=request.user, **fields)
            else:
                team = fields.pop("team")
                campaign = services.campaign_create(by=request.user, team=team, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
            return redirect("leads:campaign_detail", pk=campaign.pk)
    title = _("Edit campaign") if campaign else _("New campaign")
    return render(request, "leads/campaign_form.html", {"form": form, "title": title, "campaign": campaign})
