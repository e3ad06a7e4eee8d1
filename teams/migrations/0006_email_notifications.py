import teams.models
from django.db import migrations, models


def reminders_become_at_risk_emails(apps, schema_editor):
    """Whoever asked for at-risk reminders gets the `clock_at_risk` notification by e-mail."""
    User = apps.get_model("teams", "User")
    for user in User.objects.filter(reminders_enabled=True):
        user.email_notifications = [*user.email_notifications, "clock_at_risk"]
        user.save(update_fields=["email_notifications"])


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0005_availability"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaluser",
            name="email_notifications",
            field=models.JSONField(
                blank=True, default=teams.models.default_email_notifications, verbose_name="notifications by e-mail"
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="email_notifications",
            field=models.JSONField(
                blank=True, default=teams.models.default_email_notifications, verbose_name="notifications by e-mail"
            ),
        ),
        migrations.RunPython(reminders_become_at_risk_emails, migrations.RunPython.noop),
        migrations.RemoveField(model_name="historicaluser", name="reminders_enabled"),
        migrations.RemoveField(model_name="user", name="reminders_enabled"),
    ]
