"""Demo teams and users for `manage.py seed_demo`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from teams import selectors, services
from teams.models import ClosedDate, Role, Team, TimeOff, User

DEMO_PASSWORD = "selaras-demo"  # noqa: S105 (the documented demo login)

TEAMS = [
    {"name": "Sales Jakarta", "kind": Team.Kind.SALES, "break_start": time(12), "break_end": time(13)},
    {"name": "Sales Jayapura", "kind": Team.Kind.SALES, "timezone": "Asia/Jayapura"},
    {"name": "Marketing", "kind": Team.Kind.MARKETING},
]
# Cuti bersama (collective leave) the demo company observes beside public holidays.
CLOSED_DATES = [(date(2026, 12, 24), "Cuti bersama Natal"), (date(2026, 12, 31), "Company year-end day off")]
USERS = [
    ("admin", "Ayu", "Admin", Role.ADMIN, None),
    ("sales.manager", "Budi", "Santoso", Role.SALES_MANAGER, "Sales Jakarta"),
    ("marketing.manager", "Citra", "Lestari", Role.MARKETING_MANAGER, "Marketing"),
    ("rep1", "Dewi", "Anggraini", Role.SALES_REP, "Sales Jakarta"),
    ("rep2", "Eko", "Prasetyo", Role.SALES_REP, "Sales Jakarta"),
    ("marketer1", "Fajar", "Nugroho", Role.MARKETER, "Marketing"),
    ("papua.manager", "Gita", "Wenda", Role.SALES_MANAGER, "Sales Jayapura"),
    ("rep3", "Hana", "Kogoya", Role.SALES_REP, "Sales Jayapura"),
]


def seed(*, on: date) -> int:
    """Create the demo teams, closed days and users that are missing; returns users created.

    Memberships start on `on` (the start of the demo's history)."""
    teams = {}
    for spec in TEAMS:
        teams[spec["name"]] = Team.objects.filter(name=spec["name"]).first() or services.team_create(**spec)
    jakarta = teams["Sales Jakarta"]
    for day, name in CLOSED_DATES:
        if not ClosedDate.objects.filter(team=jakarta, date=day).exists():
            services.closed_date_add(team=jakarta, day=day, name=name)
    created = 0
    for username, first, last, role, team_name in USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = services.user_create(
            username=username,
            password=DEMO_PASSWORD,
            email=f"{username}@example.com",
            first_name=first,
            last_name=last,
            role=role,
            team=teams.get(team_name),
            on=on,
            # The shared demo password is documented and deliberately simple.
            validate_password_strength=False,
        )
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        created += 1
    return created


def seed_availability(*, now: datetime) -> int:
    """Someone off in the demo's Jakarta team: Eko on leave from yesterday until tomorrow
    (whole days), Dewi at a training next week for an afternoon. Only for whoever has no time
    off yet; returns how many stretches were entered."""
    eko, dewi = User.objects.get(username="rep2"), User.objects.get(username="rep1")
    manager = User.objects.get(username="sales.manager")
    today = timezone.localdate(now, timezone=ZoneInfo(eko.team.timezone))
    next_monday = today + timedelta(days=7 - today.weekday())
    afternoon = datetime.combine(next_monday, time(13), ZoneInfo(dewi.team.timezone))
    leave = selectors.time_off_day_span(person=eko, first=today - timedelta(days=1), last=today + timedelta(days=1))
    wanted = [
        (eko, *leave, "Cuti tahunan"),
        (dewi, afternoon, afternoon + timedelta(hours=4), "Product training"),
    ]
    entered = 0
    for person, start, end, reason in wanted:
        if not TimeOff.objects.filter(user=person).exists():
            services.time_off_add(by=manager, user=person, start=start, end=end, reason=reason)
            entered += 1
    return entered
