from django.db import migrations, models


def existing_users_know_their_way(apps, schema_editor):
    """People who signed in before the tour existed are not shown it on their next visit
    (they can ask for it on their profile page); new people are."""
    User = apps.get_model("teams", "User")
    User.objects.filter(last_login__isnull=False).update(tour_done_at=models.F("last_login"))


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0006_email_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="tour_done_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="tour finished"),
        ),
        migrations.RunPython(existing_users_know_their_way, migrations.RunPython.noop),
    ]
