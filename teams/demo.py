"""Demo teams and users for `manage.py seed_demo`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

from teams import selectors, services
from teams.calendar import period_bounds
from teams.models import ClosedDate, Role, Team, TimeOff, User

DEMO_PASSWORD = "selaras-demo"  # noqa: S105 (the documented demo login)

TEAMS = [
    {"name": "Sales Jakarta", "kind": Team.Kind.SALES, "break_start": time(12), "break_end": time(13)},
    {"name": "Sales Jayapura", "kind": Team.Kind.SALES, "timezone": "Asia/Jayapura"},
    {"name": "Marketing", "kind": Team.Kind.MARKETING},
]
# Beside public holidays, the demo company closes on the cuti bersama (collective leave days)
# the government sets each year, and on the last day of the year.
YEAR_END = "Company year-end day off"
CLOSED_AHEAD = timedelta(days=125)  # past the three months of capacity ahead
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


def seed(*, on: date, today: date) -> int:
    """Create the demo teams, closed days (from `on` to some months after `today`) and users
    that are missing; returns users created.

    Memberships start on `on` (the start of the demo's history)."""
    teams = {}
    for spec in TEAMS:
        teams[spec["name"]] = Team.objects.filter(name=spec["name"]).first() or services.team_create(**spec)
    for team in teams.values():
        taken = set(ClosedDate.objects.filter(team=team).values_list("date", flat=True))
        for day, name in closed_dates(first=on, last=today + CLOSED_AHEAD):
            if day not in taken:
                services.closed_date_add(team=team, day=day, name=name)
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


def closed_dates(*, first: date, last: date) -> list[tuple[date, str]]:
    """The demo company's closed days from `first` to `last`, by date: the cuti bersama of
    those years (Indonesia's government days in the `holidays` package, which knows them as
    far as they are announced) and 31 December."""
    years = list(range(first.year, last.year + 1))
    days = dict(holidays.country_holidays("ID", years=years, categories=("government",), language="id"))
    for year in years:
        days.setdefault(date(year, 12, 31), YEAR_END)
    return sorted((day, name) for day, name in days.items() if first <= day <= last)


def seed_availability(*, now: datetime) -> int:
    """Someone off in the demo's Jakarta team: Eko on leave from yesterday until tomorrow
    (whole days), Dewi at a training next week for an afternoon, then on maternity leave for
    three months from next month (after the training), a crunch that capacity ahead warns of.
    Each only once, and not over time off entered since; returns how many stretches were
    entered."""
    eko, dewi = User.objects.get(username="rep2"), User.objects.get(username="rep1")
    manager = User.objects.get(username="sales.manager")
    today = timezone.localdate(now, timezone=ZoneInfo(eko.team.timezone))
    next_monday = today + timedelta(days=7 - today.weekday())
    afternoon = datetime.combine(next_monday, time(13), ZoneInfo(dewi.team.timezone))
    leave = selectors.time_off_day_span(person=eko, first=today - timedelta(days=1), last=today + timedelta(days=1))
    first = max(period_bounds(today, "month")[1], next_monday + timedelta(days=1))
    maternity = selectors.time_off_day_span(person=dewi, first=first, last=first + timedelta(days=89))
    wanted = [
        (eko, *leave, "Cuti tahunan"),
        (dewi, afternoon, afternoon + timedelta(hours=4), "Product training"),
        (dewi, *maternity, "Cuti melahirkan"),
    ]
    entered = 0
    for person, start, end, reason in wanted:
        mine = TimeOff.objects.filter(user=person)
        if mine.filter(reason=reason).exists() or mine.filter(start__lt=end, end__gt=start).exists():
            continue
        services.time_off_add(by=manager, user=person, start=start, end=end, reason=reason)
        entered += 1
    return entered
