"""Phones in E.164 (SPEC §2): every stored number read in its team's country and written as
"+6281234567890". A number that cannot be read is kept as it was and flagged
(`phone_unreadable`), for someone to correct: nothing is lost. In chunks of ids, each saved
with one bulk UPDATE."""

import phonenumbers
from django.db import migrations

CHUNK = 5000


def e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, (region or "ID").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def forwards(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    with_phone = Lead.objects.exclude(phone="").order_by("pk")
    last = 0
    while True:
        rows = list(with_phone.filter(pk__gt=last).values_list("pk", "phone", "team__holiday_country")[:CHUNK])
        if not rows:
            return
        last = rows[-1][0]
        changed = []
        for pk, phone, region in rows:
            number = e164(phone, region)
            if number is None:
                changed.append(Lead(pk=pk, phone=phone, phone_unreadable=True))
            elif number != phone:
                changed.append(Lead(pk=pk, phone=number, phone_unreadable=False))
        Lead.objects.bulk_update(changed, ["phone", "phone_unreadable"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_lead_arrival")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
