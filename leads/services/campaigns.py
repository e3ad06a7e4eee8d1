"""Campaigns: created and edited by marketing managers and admins."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leads.models import Campaign
from leads.services.tallies import touch_tallies_count
from teams import permissions
from teams.models import Team, User

CAMPAIGN_FIELDS = {"name", "channel", "start_date", "end_date", "spend", "currency", "team", "utm_campaign"}


def campaign_create(*, by: User, team: Team, **fields: Any) -> Campaign:
    """Create a campaign of the marketing team `team`; validates before writing."""
    campaign = Campaign(team=team, **_only(fields))
    if not permissions.can_manage_campaign(by, campaign):
        raise PermissionDenied
    _validate(campaign)
    campaign.save()
    return campaign


def campaign_update(*, campaign: Campaign, by: User, **fields: Any) -> Campaign:
    if not permissions.can_manage_campaign(by, campaign):
        raise PermissionDenied
    changes = _only(fields)
    for name, value in changes.items():
        setattr(campaign, name, value)
    if not permissions.can_manage_campaign(by, campaign):  # moving it to another team
        raise PermissionDenied
    _validate(campaign)
    moved = "team" in changes and Campaign.objects.filter(pk=campaign.pk).exclude(team=campaign.team_id).exists()
    with transaction.atomic():
        if moved:  # its leads' follow-ups count for the new team
            touch_tallies_count(sign=-1, campaign_id=campaign.pk)
        campaign.save(update_fields=[*changes])
        if moved:
            touch_tallies_count(sign=1, campaign_id=campaign.pk)
    return campaign


def _validate(campaign: Campaign) -> None:
    if campaign.team_id and campaign.team.kind != Team.Kind.MARKETING:
        raise ValidationError({"team": _("A campaign belongs to a marketing team.")})
    if campaign.end_date and campaign.start_date and campaign.end_date < campaign.start_date:
        raise ValidationError({"end_date": _("A campaign cannot end before it starts.")})
    campaign.full_clean()


def _only(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - CAMPAIGN_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    return fields
