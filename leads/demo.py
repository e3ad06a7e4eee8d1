"""Demo campaigns and leads for `manage.py seed_demo`: three months of a real-looking pipeline.

Everything is written through the services with a back-dated `now`, so the demo's
history (assignments, follow-ups, status changes, rejections) is what the product
itself would have recorded. A fixed random seed gives the same data every time.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from leads import services
from leads.models import Campaign, Dispute, Lead, Rejection, Source, Status, Touch
from teams.models import Role, Team, User
from teams.selectors import team_reps

CAMPAIGNS = [
    ("Webinar Transformasi Digital", Campaign.Channel.CONTENT, 20, 70, Decimal("18500000")),
    ("Google Ads ERP Indonesia", Campaign.Channel.SEARCH, 5, None, Decimal("64000000")),
    ("Pameran Jakarta Fair", Campaign.Channel.EVENTS, 40, 45, Decimal("120000000")),
    ("LinkedIn Outreach Q4", Campaign.Channel.SOCIAL, 55, None, Decimal("27500000")),
    ("Newsletter Oktober", Campaign.Channel.EMAIL, 60, 62, Decimal("4500000")),
]
SOURCE_WEIGHTS = {
    Source.WEB: 30,
    Source.ADS: 22,
    Source.EVENT: 14,
    Source.REFERRAL: 10,
    Source.CONTENT: 12,
    Source.OUTBOUND: 8,
    Source.OTHER: 4,
}
CAMPAIGN_FOR_SOURCE = {
    Source.ADS: "Google Ads ERP Indonesia",
    Source.EVENT: "Pameran Jakarta Fair",
    Source.CONTENT: "Webinar Transformasi Digital",
}
FIRST_NAMES = [
    "Siti",
    "Andi",
    "Rina",
    "Agus",
    "Putri",
    "Bayu",
    "Wulan",
    "Hendra",
    "Maya",
    "Rizky",
    "Indah",
    "Yusuf",
    "Lestari",
    "Dimas",
    "Ratna",
    "Fikri",
    "Nadia",
    "Arif",
    "Sari",
    "Teguh",
    "Mega",
    "Irfan",
    "Dian",
    "Bambang",
]
LAST_NAMES = [
    "Rahma",
    "Wijaya",
    "Saputra",
    "Kusuma",
    "Hidayat",
    "Pratama",
    "Sihombing",
    "Nasution",
    "Siregar",
    "Halim",
    "Gunawan",
    "Setiawan",
    "Purnama",
    "Harahap",
    "Tanjung",
    "Simanjuntak",
    "Lubis",
    "Wibowo",
    "Susanto",
]
COMPANIES = [
    "PT Maju Jaya",
    "CV Sentosa Abadi",
    "PT Nusantara Logistik",
    "PT Sinar Terang",
    "PT Kopi Kenangan Rasa",
    "PT Batik Semesta",
    "CV Tani Makmur",
    "PT Digital Kreasi",
    "PT Samudra Perkasa",
    "PT Mitra Sehat",
    "PT Bangun Karya",
    "CV Rumah Kayu",
    "PT Garuda Data",
    "PT Sumber Rejeki",
    "PT Cahaya Printing",
    "PT Papua Mandiri",
    "PT Mentari Energi",
    "CV Dapur Nusantara",
    "PT Arunika Travel",
    "PT Lautan Biru",
]
TOUCH_NOTES = [
    "Interested, asked for a price list.",
    "Sent the proposal.",
    "Decision maker is the finance director.",
    "Call back next week.",
    "Demo scheduled.",
    "",
    "",
]


def seed(*, now: datetime, start: datetime, count: int, seed: int) -> int:
    """Create campaigns and `count` leads between `start` and `now`, once (returns leads created)."""
    if Lead.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    marketing = Team.objects.get(name="Marketing")
    marketer = User.objects.filter(team=marketing, role=Role.MARKETER).first()
    manager = User.objects.filter(team=marketing, role=Role.MARKETING_MANAGER).first()
    campaigns = _campaigns(marketing=marketing, by=manager, start=start)
    sales_teams = list(Team.objects.filter(kind=Team.Kind.SALES).order_by("name"))
    created = 0
    for index in range(count):
        team = sales_teams[0] if rng.random() < 0.8 or len(sales_teams) == 1 else sales_teams[1]
        created_at = _working_instant(rng, team, start + (now - start) * (index / count))
        if created_at > now - timedelta(minutes=30):
            continue
        _lead(rng, team=team, by=marketer, campaigns=campaigns, created_at=created_at, now=now)
        created += 1
    _disputes(marketer=marketer, manager=manager, now=now)
    return created


def _disputes(*, marketer: User, manager: User, now: datetime) -> None:
    """Marketing disputes three of the latest rejections (SPEC §15): the sales manager
    overturns one (the lead goes back to Sales) and upholds one; the newest waits for a ruling."""
    latest = list(Rejection.objects.select_related("lead__team").order_by("-at", "-pk")[:3])
    notes = [
        "The lead filled in our demo form twice; the second time with a working number.",
        "A purchasing manager of a 200-person company: squarely our customer.",
        "Same company as a lead we won last month: worth a call.",
    ]
    for number, rejection in enumerate(reversed(latest)):
        raised = rejection.at + min(timedelta(hours=3), (now - rejection.at) / 3)
        dispute = services.dispute_raise(lead=rejection.lead, by=marketer or manager, note=notes[number], now=raised)
        managers = User.objects.filter(role=Role.SALES_MANAGER, team=rejection.lead.team, is_active=True)
        ruler = managers.first() or User.objects.filter(role=Role.ADMIN, is_active=True).first()
        if number == len(latest) - 1 or ruler is None:
            continue  # the newest stays open
        ruled = raised + min(timedelta(hours=20), (now - raised) / 2)
        if number == 0:
            ruling, why = Dispute.State.OVERTURNED, "Fair point: the new number answers. Back to the team."
        else:
            ruling, why = Dispute.State.UPHELD, "Checked again: a student, not a buyer."
        services.dispute_rule(dispute=dispute, by=ruler, ruling=ruling, ruling_note=why, now=ruled)


def _campaigns(*, marketing: Team, by: User, start: datetime) -> dict[str, Campaign]:
    found = {}
    for name, channel, offset, length, spend in CAMPAIGNS:
        begins = (start + timedelta(days=offset)).date()
        found[name] = services.campaign_create(
            by=by,
            team=marketing,
            name=name,
            channel=channel,
            start_date=begins,
            end_date=begins + timedelta(days=length) if length else None,
            spend=spend,
        )
    return found


def _working_instant(rng: random.Random, team: Team, around: datetime) -> datetime:
    """A moment near `around` in the team's office hours, mostly on weekdays."""
    zone = ZoneInfo(team.timezone)
    day = around.astimezone(zone).date()
    if day.isoweekday() > 5 and rng.random() < 0.8:
        day += timedelta(days=8 - day.isoweekday())
    return datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59)), zone)


def _lead(
    rng: random.Random, *, team: Team, by: User, campaigns: dict[str, Campaign], created_at: datetime, now: datetime
) -> Lead:
    source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
    campaign_name = CAMPAIGN_FOR_SOURCE.get(source)
    if source == Source.WEB and rng.random() < 0.3:
        campaign_name = "Newsletter Oktober"
    if source == Source.OUTBOUND:
        campaign_name = "LinkedIn Outreach Q4"
    campaign = campaigns.get(campaign_name) if campaign_name else None
    if campaign and campaign.start_date > created_at.date():
        campaign = None
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANIES)
    lead = services.lead_create(
        by=by,
        team=team,
        name=f"{first} {last}",
        email=f"{first}.{last}{rng.randint(1, 99)}@{_domain(company)}".lower(),
        phone=f"+62 8{rng.randint(11, 59)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        company=company,
        source=source,
        campaign=campaign,
        now=created_at,
    )
    _work(rng, lead=lead, team=team, now=now)
    return lead


def _domain(company: str) -> str:
    words = [w for w in company.lower().replace(".", "").split() if w not in {"pt", "cv"}]
    return "".join(words)[:18] + ".co.id"


def _work(rng: random.Random, *, lead: Lead, team: Team, now: datetime) -> None:
    """Assign the lead, follow it up (most quickly, some late, some never) and move it on."""
    reps = list(team_reps(team=team).order_by("pk"))
    manager = User.objects.filter(team=team, role=Role.SALES_MANAGER).first()
    age = now - lead.created_at
    if not reps or (age < timedelta(days=5) and rng.random() < 0.5):
        return  # fresh leads still waiting for the manager
    assigned_at = min(lead.created_at + timedelta(minutes=rng.randint(3, 240)), now)
    owner = rng.choice(reps)
    services.lead_assign(lead=lead, owner=owner, by=manager, now=assigned_at)
    delay = rng.random()
    if delay < 0.05:
        return  # never followed up
    first = assigned_at + timedelta(
        minutes=rng.randint(5, 110)
        if delay < 0.6
        else rng.randint(180, 2000)
        if delay < 0.9
        else rng.randint(3000, 7000)
    )
    if rng.random() < 0.07:
        if first <= now:
            services.lead_reject(
                lead=lead,
                by=owner,
                reason=rng.choice(Rejection.Reason.values),
                note=rng.choice(["Wrong number.", "Student, not a buyer.", "Already a customer.", ""]),
                now=first,
            )
        return
    touches = rng.choices([1, 2, 3, 4, 5, 6, 8], weights=[10, 14, 18, 18, 16, 14, 10])[0]
    when = first
    for number in range(touches):
        if when > now:
            break
        kind = rng.choices(Touch.Kind.values, weights=[45, 25, 10, 18, 2])[0]
        services.touch_log(
            lead=lead,
            by=owner,
            kind=kind,
            outcome=rng.choice([*Touch.Outcome.values, ""]),
            notes=rng.choice(TOUCH_NOTES),
            occurred_at=when,
            now=when,
            **_captured(lead, number, kind),
        )
        when += timedelta(hours=rng.randint(4, 24 * 6))
    _close(rng, lead=lead, owner=owner, touches=touches, when=min(when, now))


def _captured(lead: Lead, number: int, kind: str) -> dict[str, str]:
    """How a demo follow-up was captured: about half the calls and messages tapped, most
    e-mails BCC'd to the capture mailbox (SPEC §14), the rest typed in. Decided by the lead
    and the follow-up's number, so the demo's other random choices stay as they were."""
    turn = (lead.pk * 7 + number * 3) % 10
    if kind in (Touch.Kind.CALL, Touch.Kind.MESSAGE) and turn < 5:
        return {"origin": Touch.Origin.CLICK}
    if kind == Touch.Kind.EMAIL and turn < 7:
        return {"origin": Touch.Origin.EMAIL, "external_id": f"demo-{lead.pk}-{number}@mail.selaras.example"}
    return {}


def _close(rng: random.Random, *, lead: Lead, owner: User, touches: int, when: datetime) -> None:
    roll = rng.random()
    if touches >= 3 and roll < 0.45:
        services.lead_status_change(lead=lead, by=owner, status=Status.QUALIFIED, now=when)
        if rng.random() < 0.55:
            value = Decimal(rng.randrange(5, 300)) * Decimal("1000000")
            services.lead_status_change(lead=lead, by=owner, status=Status.WON, value=value, now=when)
        elif rng.random() < 0.4:
            services.lead_status_change(lead=lead, by=owner, status=Status.LOST, now=when)
    elif touches >= 2 and roll > 0.85:
        services.lead_status_change(lead=lead, by=owner, status=Status.LOST, now=when)
