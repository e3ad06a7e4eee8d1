"""A realistic data set for the benchmarks, loaded fast (COPY on PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/selaras_bench \\
        python bench/generate.py --leads 1000000 --reset

Twelve months of leads across 20 sales teams and 4 marketing teams, 200 reps: each lead
created by a marketer (most from a campaign), assigned to a rep of its team a few hours
later, about 10 follow-ups on average (most in the first days, 15 % never touched),
5 % reassigned to another rep, 8 % won with a value, 10 % lost, 5 % rejected with a
reason, qualified ones in between; three SLAs per sales team (response, cadence,
volume) and their clocks, with due times computed by the product's business calendar
and states as the product keeps them (met when answered in time, cancelled when
reassigned or closed, running otherwise). No breach is recorded: the sweep does that.

Teams, people and SLAs go through the ORM; leads, assignments, touches, status changes,
rejections and clocks are streamed in batches (COPY on PostgreSQL, executemany on
SQLite), so memory stays flat. Sizes are flags (`--leads 100000` for the HTTP bench,
smaller for SQLite). Deterministic for a given `--seed` and `--now`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from leads.models import Assignment, Campaign, Lead, Rejection, StatusChange, Touch, attribution_empty  # noqa: E402
from leads.services.tallies import touch_tallies_rebuild  # noqa: E402
from slas.models import Clock, Sla  # noqa: E402
from slas.services.clocks import cadence_warn_at, clock_terms  # noqa: E402
from teams.calendar import calendar_for_team  # noqa: E402
from teams.models import Membership, Role, Team, User  # noqa: E402

PASSWORD = "selaras-bench"  # noqa: S105 (the benchmark's throw-away users)
BATCH = 20_000
# The product's source codes (leads.models.Source) only: the pages show their labels.
SOURCES = [("web", 30), ("ads", 25), ("event", 10), ("referral", 10), ("content", 8), ("outbound", 7), ("other", 10)]
TOUCH_KINDS = ["call", "email", "meeting", "message"]
OUTCOMES = ["", "", "connected", "no_answer", "voicemail", "replied", "meeting_booked", "other"]
REJECT_REASONS = ["duplicate", "spam", "not_icp", "bad_contact", "other"]
WARN_PERCENT = 75


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sales-teams", type=int, default=20)
    parser.add_argument("--marketing-teams", type=int, default=4)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--touches", type=float, default=10.0, help="mean follow-ups per lead")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", help="end of the generated period (ISO 8601; default: now)")
    parser.add_argument("--reset", action="store_true", help="delete every team, person, lead and SLA first")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now) if args.now else timezone.now()
    started = time.perf_counter()
    if Lead.objects.exists() or Team.objects.exists():
        if not args.reset:
            sys.exit("The database has data: run with --reset to replace it.")
        reset()
    world = World.build(args, now)
    counts = load(world, args, now)
    analyze()
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    print(f"Generated {summary} in {elapsed:.1f} s ({connection.vendor}).")


# -- people, teams and SLAs (ORM) ---------------------------------------------------------------
class World:
    """The teams, people, campaigns and SLAs that the streamed rows refer to."""

    @classmethod
    def build(cls, args, now: datetime) -> World:
        world = cls()
        rng = random.Random(args.seed)
        start = now - timedelta(days=30 * args.months)
        hashed = make_password(PASSWORD)
        with transaction.atomic():
            world.marketing = [
                Team.objects.create(name=f"Marketing {i + 1}", kind=Team.Kind.MARKETING)
                for i in range(args.marketing_teams)
            ]
            world.sales = [
                Team.objects.create(
                    name=f"Sales {i + 1}",
                    kind=Team.Kind.SALES,
                    timezone=["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"][i % 3],
                )
                for i in range(args.sales_teams)
            ]
            people = [User(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True, password=hashed)]
            for team in world.sales:
                people.append(_user(f"manager.s{team.pk}", Role.SALES_MANAGER, team, hashed))
            for team in world.marketing:
                people.append(_user(f"manager.m{team.pk}", Role.MARKETING_MANAGER, team, hashed))
                people += [_user(f"marketer.m{team.pk}.{n}", Role.MARKETER, team, hashed) for n in range(1, 4)]
            for n in range(args.reps):
                team = world.sales[n % len(world.sales)]
                people.append(_user(f"rep{n + 1}", Role.SALES_REP, team, hashed))
            User.objects.bulk_create(people)
            users = list(User.objects.exclude(team=None))
            Membership.objects.bulk_create(
                [Membership(user=u, team_id=u.team_id, role=u.role, started_on=start.date()) for u in users]
            )
            world.reps = {
                team.pk: [u.pk for u in users if u.team_id == team.pk and u.role == Role.SALES_REP]
                for team in world.sales
            }
            world.managers = {u.team_id: u.pk for u in users if u.role == Role.SALES_MANAGER}
            world.marketers = {
                team.pk: [u.pk for u in users if u.team_id == team.pk and u.role == Role.MARKETER]
                for team in world.marketing
            }
            world.campaigns = {}
            for team in world.marketing:
                campaigns = [
                    Campaign(
                        name=f"Campaign {team.pk}.{n}",
                        channel=rng.choice(["email", "events", "search", "social", "content"]),
                        start_date=(start + timedelta(days=30 * n)).date(),
                        end_date=(start + timedelta(days=30 * n + 60)).date(),
                        spend=Decimal(rng.randrange(5_000_000, 80_000_000, 500_000)),
                        team=team,
                        created_at=start,
                    )
                    for n in range(args.months)
                ]
                world.campaigns[team.pk] = [c.pk for c in Campaign.objects.bulk_create(campaigns)]
            world.slas = {}
            for i, team in enumerate(world.sales):
                common = {
                    "team": team,
                    "created_by_id": world.managers[team.pk],
                    "active_from": start - timedelta(days=1),
                }
                response = Sla.objects.create(
                    name="First touch within 1 business day",
                    kind=Sla.Kind.RESPONSE,
                    target_value=1,
                    target_unit=Sla.Unit.BUSINESS_DAYS,
                    warn_at_percent=WARN_PERCENT,
                    **common,
                )
                cadence = Sla.objects.create(
                    name="5 touches in the first 30 days",
                    kind=Sla.Kind.CADENCE,
                    min_touches=5,
                    window_days=30,
                    warn_at_percent=WARN_PERCENT,
                    **common,
                )
                Sla.objects.create(
                    name="50 leads per rep per month",
                    kind=Sla.Kind.VOLUME,
                    leads_per_rep=50,
                    period=Sla.Period.MONTH,
                    from_team=world.marketing[i % len(world.marketing)],
                    **common,
                )
                world.slas[team.pk] = (response, cadence)
        world.calendars = {team.pk: calendar_for_team(team) for team in world.sales}
        world.marketing_of = {
            team.pk: world.marketing[i % len(world.marketing)].pk for i, team in enumerate(world.sales)
        }
        return world


def _user(username: str, role: str, team: Team, hashed: str) -> User:
    return User(
        username=username,
        email=f"{username}@bench.example",
        role=role,
        team=team,
        password=hashed,
        first_name=username.split(".")[0].title(),
        last_name=str(team.pk),
    )


# -- streamed rows ----------------------------------------------------------------------------------
def load(world: World, args, now: datetime) -> dict[str, int]:
    rng = random.Random(args.seed + 1)
    start = now - timedelta(days=30 * args.months)
    span = (now - start).total_seconds()
    ids = {model: _next_id(model) for model in (Lead, Assignment, Touch, StatusChange, Rejection, Clock)}
    counts = dict.fromkeys(("leads", "assignments", "touches", "status changes", "rejections", "clocks"), 0)
    sources, weights = zip(*SOURCES, strict=True)
    p_touched = 0.85
    # Touched leads carry the whole mean, and about a quarter of the follow-ups planned never
    # happen (the lead closed first, or it is too recent): plan 35 % more.
    mean_touches = args.touches / p_touched * 1.35
    for first in range(0, args.leads, BATCH):
        rows = {model: [] for model in ids}
        for _ in range(first, min(first + BATCH, args.leads)):
            team = rng.choice(world.sales)
            marketing = world.marketing_of[team.pk]
            # Leads grow through the year (about +10 % a quarter): more in recent months.
            created = start + timedelta(seconds=span * math.sqrt(rng.random()))
            source = rng.choices(sources, weights)[0]
            campaign = rng.choice(world.campaigns[marketing]) if rng.random() < 0.6 else None
            lead_id = ids[Lead]
            ids[Lead] += 1
            lead = {
                "id": lead_id,
                "name": f"Lead {lead_id}",
                "email": f"lead{lead_id}@example.co.id",
                "phone": f"+62812{lead_id:07d}",  # E.164, as the app stores phones
                "company": f"PT Contoh {lead_id % 5000}",
                "source": source,
                "campaign_id": campaign,
                "team_id": team.pk,
                "owner_id": None,
                "status": "new",
                "value": None,
                "notes": "",
                "created_at": created,
                "created_by_id": rng.choice(world.marketers[marketing]),
                "assigned_at": None,
                "closed_at": None,
                "first_assigned_at": None,  # the facts the services keep (leads.services.facts)
                "first_response_at": None,
                "reached_qualified": False,
                "arrived_via": "import",
                "attribution": json.dumps(attribution_empty()),
                "phone_unreadable": False,
                "consent_text": "",
                "consent_at": None,
            }
            rows[Lead].append(lead)
            if rng.random() < 0.02 and created > now - timedelta(days=3):
                continue  # a few of the newest are not assigned yet
            _assign_and_work(world, rng, rows, ids, lead, team, now, mean_touches, p_touched)
        _write(rows)
        for model, name in zip(ids, counts, strict=True):
            counts[name] += len(rows[model])
        print(f"  {min(first + BATCH, args.leads):,} leads …", file=sys.stderr, flush=True)
    _reset_sequences()
    touch_tallies_rebuild()  # the follow-ups were copied in past the services that count them
    return counts


def _assign_and_work(world, rng, rows, ids, lead, team, now, mean_touches, p_touched) -> None:
    reps = world.reps[team.pk]
    calendar = world.calendars[team.pk]
    response_sla, cadence_sla = world.slas[team.pk]
    assigned = min(lead["created_at"] + timedelta(minutes=rng.expovariate(1 / 90)), now)
    owner = rng.choice(reps)
    assignments = [(assigned, owner)]
    if rng.random() < 0.05 and assigned + timedelta(days=2) < now:
        other = rng.choice([r for r in reps if r != owner] or reps)
        assignments.append((assigned + timedelta(days=2, minutes=rng.randrange(600)), other))
    # Follow-ups: most early, later ones further apart; 15 % of leads are never touched.
    touches: list[datetime] = []
    if rng.random() < p_touched:
        count = max(1, int(rng.gammavariate(2.0, mean_touches / 2.0)))
        at = assigned + timedelta(hours=rng.lognormvariate(1.2, 1.1))
        for _ in range(count):
            if at > now:
                break
            touches.append(at)
            at += timedelta(hours=rng.expovariate(1 / 40) * (1 + len(touches) / 3))
    # The pipeline: closed in proportion to age and effort.
    # An assigned lead stays "new" until its first follow-up, as in the product.
    status, closed, value = ("working" if touches else "new"), None, None
    roll = rng.random()
    if touches and roll < 0.08:
        status, value = "won", Decimal(rng.randrange(5_000_000, 400_000_000, 100_000))
    elif touches and roll < 0.18:
        status = "lost"
    elif roll < 0.23:
        status = "rejected"
    elif touches and roll < 0.35:
        status = "qualified"
    if status in ("won", "lost", "rejected"):
        closed = (touches[-1] if touches else assigned) + timedelta(hours=rng.expovariate(1 / 24))
        if closed > now:
            status, closed, value = ("working" if touches else "new"), None, None
    touches = [t for t in touches if closed is None or t <= closed]
    final_owner = assignments[-1][1]
    lead.update(owner_id=final_owner, status=status, value=value, assigned_at=assignments[-1][0], closed_at=closed)
    # Every follow-up comes after the first assignment; a won lead went through qualified.
    lead.update(
        first_assigned_at=assigned,
        first_response_at=touches[0] if touches else None,
        reached_qualified=status in ("qualified", "won"),
    )

    responses = list(touches)
    if status == "rejected":
        rows[Rejection].append(
            {
                "id": _take(ids, Rejection),
                "lead_id": lead["id"],
                "reason": rng.choice(REJECT_REASONS),
                "note": "",
                "by_id": final_owner,
                "at": closed,
            }
        )
        responses.append(closed)
    if status in ("qualified", "won", "lost", "rejected"):
        at = closed or (touches[min(2, len(touches) - 1)] if touches else assigned)
        if status in ("won",):
            reached = touches[len(touches) // 2] if touches else at
            rows[StatusChange].append(
                {
                    "id": _take(ids, StatusChange),
                    "lead_id": lead["id"],
                    "from_status": "working",
                    "to_status": "qualified",
                    "by_id": final_owner,
                    "at": min(reached, at),
                }
            )
        rows[StatusChange].append(
            {
                "id": _take(ids, StatusChange),
                "lead_id": lead["id"],
                "from_status": "working" if touches else "new",
                "to_status": status,
                "by_id": final_owner,
                "at": at,
            }
        )

    for index, (at, owner_id) in enumerate(assignments):
        ended = assignments[index + 1][0] if index + 1 < len(assignments) else None
        assignment_id = _take(ids, Assignment)
        rows[Assignment].append(
            {
                "id": assignment_id,
                "lead_id": lead["id"],
                "owner_id": owner_id,
                "assigned_by_id": world.managers[team.pk],
                "assigned_at": at,
                "ended_at": ended,
            }
        )
        for sla in (response_sla, cadence_sla):
            due, warn, required = clock_terms(sla, at, calendar)
            clock = {
                "id": _take(ids, Clock),
                "sla_id": sla.pk,
                "sla_version": sla.version,
                "kind": sla.kind,
                "lead_id": lead["id"],
                "assignment_id": assignment_id,
                "owner_id": owner_id,
                "team_id": team.pk,
                "started_at": at,
                "due_at": due,
                "warn_at": warn,
                "required": required,
                "state": "running",
                "satisfied_at": None,
                "cancelled_at": None,
                "cancel_reason": "",
                "created_at": at,
            }
            if ended is not None and due > ended:
                clock.update(state="cancelled", cancelled_at=ended, cancel_reason="reassigned")
            elif sla.kind == Sla.Kind.RESPONSE:
                first = min((t for t in responses if t >= at), default=None)
                if first is not None and first <= due:
                    clock.update(state="met", satisfied_at=first)
            else:
                counted = [t for t in touches if at <= t < due]
                clock["warn_at"] = cadence_warn_at(at, due, required, counted=len(counted))
                if len(counted) >= required:
                    clock.update(state="met", satisfied_at=counted[required - 1])
                elif closed is not None and closed < due:
                    clock.update(state="cancelled", cancelled_at=closed, cancel_reason="closed")
            rows[Clock].append(clock)

    kinds = rng.choices(TOUCH_KINDS, [45, 30, 10, 15], k=len(touches))
    for at, kind in zip(touches, kinds, strict=True):
        user = final_owner if len(assignments) == 1 or at >= assignments[-1][0] else assignments[0][1]
        rows[Touch].append(
            {
                "id": _take(ids, Touch),
                "lead_id": lead["id"],
                "user_id": user,
                "kind": kind,
                "occurred_at": at,
                "outcome": rng.choice(OUTCOMES),
                "notes": "",
                "origin": "manual",
                "external_id": "",
                "created_at": at,
            }
        )


def _take(ids: dict, model) -> int:
    value = ids[model]
    ids[model] += 1
    return value


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _columns(model, sample: dict) -> list[tuple[str, str]]:
    """(dict key, table column) for every key of the row, in the model's field order."""
    by_column = {}
    for field in model._meta.concrete_fields:
        key = field.attname
        if key in sample:
            by_column[key] = field.column
    return list(by_column.items())


def _value(value) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _write(rows: dict) -> None:
    with transaction.atomic():
        for model, batch in rows.items():
            if not batch:
                continue
            columns = _columns(model, batch[0])
            table = connection.ops.quote_name(model._meta.db_table)
            names = ", ".join(connection.ops.quote_name(column) for _, column in columns)
            if connection.vendor == "postgresql":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in batch:
                    writer.writerow(["\\N" if row[key] is None else _value(row[key]) for key, _ in columns])
                buffer.seek(0)
                with connection.cursor() as cursor:
                    cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
            else:
                marks = ", ".join(["%s"] * len(columns))
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})",
                        [[_value(row[key]) for key, _ in columns] for row in batch],
                    )


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Lead, Assignment, Touch, StatusChange, Rejection, Clock):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


def reset() -> None:
    """Empty the app's tables (TRUNCATE on PostgreSQL; the ORM elsewhere)."""
    from django.apps import apps

    models = [
        m for m in apps.get_models() if m._meta.app_label in ("teams", "leads", "slas", "kpis", "authtoken", "axes")
    ]
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        from django.core.management import call_command

        call_command("flush", "--noinput", verbosity=0)
    from slas.models import SweepLease

    SweepLease.objects.get_or_create(name="sweep")


def analyze() -> None:
    """Fresh planner statistics and visibility map, as autovacuum leaves them after a day
    of normal use (without the visibility map, index-only scans would read the table)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


if __name__ == "__main__":
    main()
