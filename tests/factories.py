"""factory_boy factories shared by the tests."""

from __future__ import annotations

import factory
from django.utils import timezone

from teams import services
from teams.models import Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.SALES


class MarketingTeamFactory(TeamFactory):
    kind = Team.Kind.MARKETING


class UserFactory(factory.django.DjangoModelFactory):
    """A user created through the service, so their membership history exists like in production."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.SALES_REP
    team = factory.LazyAttribute(
        lambda u: (
            TeamFactory(kind=Team.Kind.MARKETING if u.role in (Role.MARKETER, Role.MARKETING_MANAGER) else "sales")
            if u.role != Role.ADMIN
            else None
        )
    )
    password = "correct-horse-battery-9"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        on = kwargs.pop("on", None) or timezone.localdate()
        return services.user_create(on=on, **kwargs)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Campaign"

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "search"
    team = factory.SubFactory(MarketingTeamFactory)
    start_date = factory.LazyFunction(timezone.localdate)
    spend = 10_000_000


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead row as the services would leave it; pass `owner` to get its assignment too."""

    class Meta:
        model = "leads.Lead"

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    company = factory.Faker("company")
    source = "web"
    team = factory.SubFactory(TeamFactory)
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from leads.models import Assignment

        owner = kwargs.get("owner")
        if owner is not None:
            kwargs.setdefault("assigned_at", kwargs.get("created_at") or timezone.now())
            kwargs.setdefault("first_assigned_at", kwargs["assigned_at"])
        kwargs.setdefault("reached_qualified", kwargs.get("status") in ("qualified", "won"))
        lead = super()._create(model_class, *args, **kwargs)
        if owner is not None:
            Assignment.objects.create(lead=lead, owner=owner, assigned_at=lead.assigned_at)
        return lead


class LeadFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.LeadForm"

    name = factory.Sequence(lambda n: f"Form {n}")
    team = factory.SubFactory(TeamFactory)
    language = "en"
    fields = ["email", "phone", "company", "notes"]
    required = ["email"]


class InboundHookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.InboundHook"

    name = factory.Sequence(lambda n: f"Hook {n}")
    team = factory.SubFactory(TeamFactory)
    kind = "json"


class WhatsAppNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.WhatsAppNumber"

    phone_number_id = factory.Sequence(lambda n: f"10{n:08d}")
    name = "WhatsApp sales"
    team = factory.SubFactory(TeamFactory)


def seed_slas(*, team: Team, by: User, now) -> dict:
    """The SPEC's response and cadence SLAs for a sales team: first touch within 1 business
    day, 5 touches in the first 30 days (every assignment then starts two clocks)."""
    from slas import services as sla_services

    return {
        "response": sla_services.sla_create(
            by=by,
            team=team,
            kind="response",
            name="First touch within 1 business day",
            target_value=1,
            target_unit="business_days",
            now=now,
        ),
        "cadence": sla_services.sla_create(by=by, team=team, kind="cadence", name="5 touches in 30 days", now=now),
    }
