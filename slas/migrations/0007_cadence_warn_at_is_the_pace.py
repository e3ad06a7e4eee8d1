"""A cadence clock's `warn_at` is now the instant it falls behind the straight-line pace of
touches (slas.services.clocks.cadence_warn_at), moved on by each touch, so that every clock
is at risk from its `warn_at`. Sets it on the cadence clocks there are, a batch at a time."""

from collections import defaultdict

from django.db import migrations

BATCH = 2000


def pace(started, due, required, counted):
    return due if counted >= required else started + (due - started) * (counted + 1) / required


def forwards(apps, schema_editor):
    Clock = apps.get_model("slas", "Clock")
    Touch = apps.get_model("leads", "Touch")
    clocks = Clock.objects.filter(kind="cadence").exclude(cancel_reason="reassigned").order_by("pk")
    last = 0
    while True:
        batch = list(clocks.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        touches = defaultdict(list)
        for lead_id, at in Touch.objects.filter(lead_id__in={c.lead_id for c in batch}).values_list(
            "lead_id", "occurred_at"
        ):
            touches[lead_id].append(at)
        for clock in batch:
            counted = sum(1 for at in touches[clock.lead_id] if clock.started_at <= at < clock.due_at)
            clock.warn_at = pace(clock.started_at, clock.due_at, clock.required, counted)
        Clock.objects.bulk_update(batch, ["warn_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("slas", "0006_clock_team_due_index"),
        ("leads", "0005_money_and_date_limits"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
