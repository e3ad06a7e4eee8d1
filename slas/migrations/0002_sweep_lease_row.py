from django.db import migrations


def create_lease(apps, schema_editor):
    apps.get_model("slas", "SweepLease").objects.get_or_create(name="sweep")


class Migration(migrations.Migration):
    dependencies = [("slas", "0001_initial")]

    operations = [migrations.RunPython(create_lease, migrations.RunPython.noop)]
